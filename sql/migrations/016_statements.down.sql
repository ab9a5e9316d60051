-- Rollback of migration 016: imported statements and account mappings are dropped with their
-- tables (their audit rows stay in the log); audit_write goes back to migration 008's.
DROP TABLE statement_lines;
DROP TABLE statements;
DROP TABLE statement_files;
DROP TABLE bank_accounts;
DROP FUNCTION audit_statements();

-- restore: audit_write from 008_audit_index_kinds.up.sql
