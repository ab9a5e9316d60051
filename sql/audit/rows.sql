-- The audit rows verification reads: the live log, plus the rows of archived months read back from
-- their files (audit_archived, loaded for the session; sql/audit/archived_rows.sql, added only when
-- a month is loaded: a temporary table in the scan would keep PostgreSQL from reading the log with
-- parallel workers). {exclude_start}/{exclude_end}: a month whose live rows are left out because its
-- file stands in for them (the archive step verifies a file before the partition is detached); an
-- empty range when none. OR REPLACE: with no month archived the view depends on no relation dropped
-- at commit, so it outlives the transaction, and the next full verification on the connection
-- replaces it.
CREATE OR REPLACE TEMP VIEW audit_rows AS
SELECT id, table_name, operation, record_id, user_id, ip_address, old_data, new_data, created_at, seq,
       txid, db_role, db_login
FROM audit_log
WHERE NOT (created_at >= {exclude_start} AND created_at < {exclude_end})
{archived}
