-- The next alert due on a channel that has not failed in this round, locked until its delivery is
-- recorded: two evaluations at once never send the same alert. A failed alert's next attempt is
-- later than the alerts queued behind it, so those go first.
SELECT id, channel, title, body, attempts
FROM alert_outbox
WHERE delivered_at IS NULL AND next_attempt_at <= now()
  AND channel = ANY(%(channels)s::text[]) AND NOT channel = ANY(%(failed_channels)s::text[])
ORDER BY next_attempt_at, id
LIMIT 1
FOR UPDATE SKIP LOCKED
