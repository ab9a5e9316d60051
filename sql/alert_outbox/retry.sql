-- Backoff: the retry delay doubles with each failed attempt, up to an hour.
UPDATE alert_outbox
SET attempts = attempts + 1, last_error = %(error)s,
    next_attempt_at = now() + least(%(retry_seconds)s * power(2, attempts), 3600) * interval '1 second'
WHERE id = %(id)s
