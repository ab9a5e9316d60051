-- Rollback of migration 009.
DROP FUNCTION IF EXISTS audit_seal();
DROP FUNCTION IF EXISTS audit_settled_txid();
-- The immutability triggers guard the rows, not the table: dropping it is DDL, not a change.
DROP TABLE IF EXISTS audit_seals;
DROP FUNCTION IF EXISTS audit_seal_hash(bigint, bigint, bigint, bigint, text, text);
DROP FUNCTION IF EXISTS audit_row_digest(uuid, text, text, uuid, uuid, inet, jsonb, jsonb, timestamp, bigint,
                                         bigint, text, text);
DROP INDEX IF EXISTS idx_audit_log_txid;
