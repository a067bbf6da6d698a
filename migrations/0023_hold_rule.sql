-- The held-pause rule in one place (dialer/agents/holds.py): campaign $1 has more calls
-- ringing (or holding a person waiting) for no agent yet -- open outbound attempts, not
-- connected, no agent reserved -- than free agents other than agent $2 (available, not
-- holding a pause themselves). A pause asked for by $2 is held while this is true for one
-- of their campaigns (queries hold_check and holds_due).
CREATE FUNCTION dialer_calls_outnumber_agents(campaign bigint, agent bigint)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT (SELECT count(*) FROM attempts t
            WHERE t.campaign_id = $1 AND t.ended_at IS NULL AND t.connected_at IS NULL
              AND t.agent_id IS NULL AND t.direction = 'outbound')
         > (SELECT count(*) FROM agents o JOIN agent_campaigns oc ON oc.agent_id = o.id
            WHERE oc.campaign_id = $1 AND o.id <> $2 AND o.state = 'available'
              AND o.pending_action IS NULL AND o.deleted_at IS NULL)
$$;
