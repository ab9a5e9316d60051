-- One table's records written or audited since the last intact verification, as
-- sql/audit/nightly/written_since.sql found them, a branch of sql/audit/nightly/trail_records.sql.
SELECT {table_name}::text AS table_name, unnest({ids}::uuid[]) AS record_id UNION ALL
