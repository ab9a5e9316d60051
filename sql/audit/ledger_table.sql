-- One table's rows as audit_trail_complete compares them with their trail: its table, key, JSON
-- form and xmin; joined by UNION ALL over the tables the trail covers (audit.verification.TRAILED).
-- only: nothing (every row: the full run, the first nightly run), or sql/audit/nightly/only_records.sql.
SELECT {table_name}::text AS table_name, t.id, to_jsonb(t) - 'arrival_xid' AS data, t.xmin AS version FROM {table} t {only}
