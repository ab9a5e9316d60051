-- Rollback of migration 017: without the record of past verifications, every run re-hashes the
-- whole log as before.
DROP FUNCTION audit_written_since(xid, bigint);
DROP TABLE audit_block_verifications;
DROP TABLE audit_verifications;
