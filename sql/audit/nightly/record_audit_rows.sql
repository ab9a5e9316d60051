-- The audit rows of the records the nightly audit_trail_complete compares (records, a CTE of
-- sql/checks/audit/audit_trail_complete.sql), found through idx_audit_log_record.
SELECT a.* FROM audit_log a WHERE (a.table_name, a.record_id) IN (SELECT table_name, record_id FROM records)
