-- The archived months' rows, as loaded into audit_archived, appended to audit_rows (sql/audit/rows.sql).
UNION ALL
SELECT id, table_name, operation, record_id, user_id, ip_address, old_data, new_data, created_at, seq,
       txid, db_role, db_login
FROM audit_archived
