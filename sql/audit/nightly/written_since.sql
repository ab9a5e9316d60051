-- The records the nightly audit_trail_complete compares because they are new to it: every row of
-- the tables the trail covers that arrived at or after since (the last intact verification's
-- watermark; tables: sql/audit/nightly/written_table.sql for each), found by its arrival_xid
-- (migration 021), which its default sets, triggers or not; and every record with an audit row
-- written since. Both by index, so the cost follows what is new, not the ledger. Read once per run,
-- by audit.verification.plan, which counts them and passes them to the check as literals.
-- One row per table: its ids.
WITH changed (table_name, record_id) AS (
    {tables}
    SELECT table_name, record_id FROM audit_log WHERE txid >= {since}::bigint AND record_id IS NOT NULL
)
SELECT table_name, array_agg(DISTINCT record_id)::text AS ids FROM changed GROUP BY table_name
