-- A campaign's recent activity for the console's live view. Read-only.

-- name: timeline
-- Attempts started in [$2, $3) by bucket of $4 seconds from $2 (bucket index i): dials,
-- connects to an agent and abandons, as report.py's `window` counts them. Empty buckets
-- are absent (the caller fills them with zeros).
SELECT floor(extract(epoch FROM started_at - $2) / $4::float8)::int AS i,
       count(*) AS dials,
       count(*) FILTER (WHERE connected_at IS NOT NULL) AS connects,
       count(*) FILTER (WHERE outcome = 'abandoned') AS abandons
FROM attempts
WHERE campaign_id = $1 AND started_at >= $2 AND started_at < $3 AND direction = 'outbound'
GROUP BY 1
ORDER BY 1;

-- name: recent_attempts
-- The campaign's latest attempts, newest first, with their agent and the calling-rule
-- decision stored at the dial (attempts_campaign_started_idx, read backwards).
SELECT a.id, a.lead_id, a.phone_e164, a.started_at, a.answered_at, a.connected_at,
       a.ended_at, a.outcome, a.answer, a.disposition, a.mode, a.talk_s, a.wait_s,
       a.agent_id, g.name AS agent_name,
       coalesce((a.compliance ->> 'allowed')::boolean, false) AS allowed,
       coalesce(a.compliance -> 'rule_ids', '[]'::jsonb) AS rule_ids,
       coalesce(a.compliance -> 'packs', '[]'::jsonb) AS packs,
       coalesce(a.compliance -> 'waived_rules', '[]'::jsonb) AS waived_rules
FROM attempts a
LEFT JOIN agents g ON g.id = a.agent_id
WHERE a.campaign_id = $1
ORDER BY a.started_at DESC, a.id DESC
LIMIT $2;
