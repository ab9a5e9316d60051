-- One table's rows that arrived at or after since, found by arrival_xid (migration 021), a branch
-- of sql/audit/nightly/written_since.sql.
SELECT {table_name}::text AS table_name, id AS record_id FROM {table} WHERE arrival_xid >= {since}::text::xid8
UNION ALL
