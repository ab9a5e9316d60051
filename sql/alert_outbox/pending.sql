-- Alerts not yet delivered on the configured channels, and the oldest of them.
SELECT count(*), min(created_at) FROM alert_outbox WHERE delivered_at IS NULL AND channel = ANY(%(channels)s::text[])
