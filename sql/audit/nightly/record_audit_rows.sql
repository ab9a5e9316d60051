-- The latest audit row of each record the nightly audit_trail_complete compares (records, a CTE
-- of sql/checks/audit/audit_trail_complete.sql), and whether any of its rows inserted it, as
-- sql/audit/latest_audit_rows.sql gives them: the record's rows found through idx_audit_log_record,
-- record by record, so that no sort carries the slice's rows with their JSON (it spilled to disk).
SELECT r.table_name, r.record_id, au.seq, au.operation, au.new_data, au.old_data, au.inserted
FROM records r
CROSS JOIN LATERAL (
    SELECT a.seq, a.operation, a.new_data, a.old_data, bool_or(a.operation = 'INSERT') OVER () AS inserted
    FROM audit_log a
    WHERE a.record_id = r.record_id AND a.table_name = r.table_name
    ORDER BY a.seq DESC
    LIMIT 1
) au
