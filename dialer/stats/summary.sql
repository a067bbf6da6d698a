-- Figures of many campaigns at once, for the console's campaign list (one query per kind
-- of figure, whatever the number of campaigns). The same counts as report.py's `window`,
-- `leads` and `occupancy` blocks, grouped by campaign; tests check they agree.

-- name: summary_window
-- Dials, connects, live answers and abandons of the attempts started in [$2, $3)
-- (attempts_campaign_started_idx). Campaigns without attempts are absent.
-- Inbound calls (callbacks) are counted apart, not as dials.
SELECT campaign_id,
       count(*) FILTER (WHERE direction = 'outbound') AS dials,
       count(*) FILTER (WHERE connected_at IS NOT NULL AND direction = 'outbound') AS connects,
       count(*) FILTER (WHERE answer = 'human' AND direction = 'outbound') AS human_answers,
       count(*) FILTER (WHERE outcome = 'abandoned' AND direction = 'outbound') AS abandons,
       count(*) FILTER (WHERE direction = 'inbound') AS inbound
FROM attempts
WHERE campaign_id = ANY($1::bigint[]) AND started_at >= $2 AND started_at < $3
GROUP BY campaign_id;

-- name: summary_remaining
-- Leads that may still be dialed (new, retry, callback): the partial leads_dialable_idx.
SELECT campaign_id, count(*) AS n
FROM leads
WHERE campaign_id = ANY($1::bigint[]) AND status IN ('new', 'retry', 'callback')
GROUP BY campaign_id;

-- name: list_figures
-- A campaign's lead lists with their leads: total, still dialable, and dialed at least once.
SELECT ll.id, ll.name, ll.source, ll.default_region, ll.created_at, ll.active,
       count(l.id) AS leads,
       count(l.id) FILTER (WHERE l.status IN ('new', 'retry', 'callback')) AS remaining,
       count(l.id) FILTER (WHERE l.attempts_count > 0) AS attempted
FROM lead_lists ll
LEFT JOIN leads l ON l.list_id = ll.id
WHERE ll.campaign_id = $1
GROUP BY ll.id
ORDER BY ll.id DESC
LIMIT $2;
