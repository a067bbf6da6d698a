-- Figures of many campaigns at once, for the console's campaign list (one query per kind
-- of figure, whatever the number of campaigns). The same counts as report.py's `window`,
-- `leads` and `occupancy` blocks, grouped by campaign; tests check they agree.

-- name: summary_window
-- Dials, connects, live answers and abandons of the attempts started in [$2, $3)
-- (attempts_campaign_started_idx). Campaigns without attempts are absent.
SELECT campaign_id,
       count(*) AS dials,
       count(*) FILTER (WHERE connected_at IS NOT NULL) AS connects,
       count(*) FILTER (WHERE answer = 'human') AS human_answers,
       count(*) FILTER (WHERE outcome = 'abandoned') AS abandons
FROM attempts
WHERE campaign_id = ANY($1::bigint[]) AND started_at >= $2 AND started_at < $3
GROUP BY campaign_id;

-- name: summary_remaining
-- Leads that may still be dialed (new, retry, callback): the partial leads_dialable_idx.
SELECT campaign_id, count(*) AS n
FROM leads
WHERE campaign_id = ANY($1::bigint[]) AND status IN ('new', 'retry', 'callback')
GROUP BY campaign_id;

-- name: summary_occupancy
-- Agent time in [$2, $3) of each campaign's agents, as report.py's `occupancy` counts it:
-- seconds logged in (any state but offline) and seconds on a call of that campaign.
WITH ag AS (
    SELECT campaign_id, agent_id FROM agent_campaigns WHERE campaign_id = ANY($1::bigint[])
), changes AS (
    SELECT ag.campaign_id, l.agent_id, l.id, l.state, l.attempt_id, l.at
    FROM ag
    CROSS JOIN LATERAL (
        (SELECT x.agent_id, x.id, x.state, x.attempt_id, x.at
         FROM agent_state_log x
         WHERE x.agent_id = ag.agent_id AND x.at <= $2
         ORDER BY x.at DESC, x.id DESC
         LIMIT 1)
        UNION ALL
        (SELECT x.agent_id, x.id, x.state, x.attempt_id, x.at
         FROM agent_state_log x
         WHERE x.agent_id = ag.agent_id AND x.at > $2 AND x.at < $3)
    ) l
), spans AS (
    SELECT campaign_id, state, attempt_id,
           greatest(at, $2) AS t0,
           least(coalesce(lead(at) OVER (PARTITION BY campaign_id, agent_id ORDER BY at, id),
                          $3), $3) AS t1
    FROM changes
)
SELECT s.campaign_id,
       coalesce(sum(extract(epoch FROM s.t1 - s.t0))
                FILTER (WHERE s.state <> 'offline'), 0)::float8 AS logged_in_s,
       coalesce(sum(extract(epoch FROM s.t1 - s.t0))
                FILTER (WHERE s.state = 'on_call' AND a.campaign_id = s.campaign_id), 0)::float8
           AS talk_s
FROM spans s
LEFT JOIN attempts a ON a.id = s.attempt_id
WHERE s.t1 > s.t0
GROUP BY s.campaign_id;

-- name: list_figures
-- A campaign's lead lists with their leads: total, still dialable, and dialed at least once.
SELECT ll.id, ll.name, ll.source, ll.default_region, ll.created_at,
       count(l.id) AS leads,
       count(l.id) FILTER (WHERE l.status IN ('new', 'retry', 'callback')) AS remaining,
       count(l.id) FILTER (WHERE l.attempts_count > 0) AS attempted
FROM lead_lists ll
LEFT JOIN leads l ON l.list_id = ll.id
WHERE ll.campaign_id = $1
GROUP BY ll.id
ORDER BY ll.id DESC
LIMIT $2;
