-- Undoes an active match: stamped with the reason, its links deactivated (the audit log keeps
-- both). Its line and entries are free to match again, though never with each other by a rule.
WITH undone AS (
    UPDATE statement_matches SET unmatched_at = now(), unmatch_reason = %(reason)s, unmatched_xid = pg_current_xact_id()
    WHERE id = %(match_id)s AND unmatched_at IS NULL
    RETURNING id
), links AS (
    UPDATE statement_match_links SET active = false WHERE match_id IN (SELECT id FROM undone) AND active
)
SELECT id FROM undone
