-- One row per configured channel; an alert already queued for a channel stays as it is.
INSERT INTO alert_outbox (alert_key, channel, title, body)
SELECT %(alert_key)s, channel, %(title)s, %(body)s
FROM unnest(%(channels)s::text[]) AS channel
ON CONFLICT (alert_key, channel) DO NOTHING
