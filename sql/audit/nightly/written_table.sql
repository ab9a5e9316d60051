-- One table's rows written by a transaction at or after since, found by their xmin
-- (audit_written_since, migration 017), a branch of sql/audit/nightly/written_since.sql.
SELECT {table_name}::text AS table_name, id AS record_id FROM {table} WHERE audit_written_since(xmin, {since})
UNION ALL
