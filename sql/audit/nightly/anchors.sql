-- The anchors kept outside the database, as the nightly audit_log_intact reads them: a JSON literal
-- rather than a temporary table, so the check can read on a replica.
SELECT * FROM jsonb_to_recordset({anchors}::jsonb) AS a (seal_no bigint, hash text, row_count bigint, source text)
