-- Rollback of migration 008: migration 006's definitions, exactly.

DROP INDEX idx_entries_account;
CREATE INDEX idx_entries_account ON entries (account_id);

-- restore: transactions_owner from 006_production_security.up.sql
-- restore: entries_owner from 006_production_security.up.sql
-- restore: audit_write from 006_production_security.up.sql

DROP INDEX idx_audit_log_operation;
CREATE INDEX idx_audit_log_operation ON audit_log (operation);
DROP INDEX idx_audit_log_table;
CREATE INDEX idx_audit_log_table ON audit_log (table_name);
DROP INDEX idx_audit_log_created;
CREATE INDEX idx_audit_log_created ON audit_log (created_at);
