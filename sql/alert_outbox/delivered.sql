UPDATE alert_outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = %(id)s
