-- Rollback of migration 010: the unpartitioned audit_log of migrations 006, 008 and 009, with every
-- row. Archived months live only in their files: restore them first (`ledger-pipeline audit
-- restore YYYY-MM`), or this refuses rather than lose them.
DO $$
BEGIN
    IF EXISTS (SELECT FROM audit_archives) THEN
        RAISE EXCEPTION 'audit months % are archived: restore them before rolling back migration 010',
            (SELECT string_agg(to_char(month, 'YYYY-MM'), ', ' ORDER BY month) FROM audit_archives);
    END IF;
END
$$;
DROP TABLE audit_archives;

ALTER TABLE audit_log RENAME TO audit_log_partitioned;
ALTER SEQUENCE audit_log_seq_seq RENAME TO audit_log_partitioned_seq_seq;
ALTER TABLE audit_log_partitioned DROP CONSTRAINT audit_log_pkey, DROP CONSTRAINT audit_log_seq_key;
DROP INDEX idx_audit_log_table, idx_audit_log_user, idx_audit_log_created, idx_audit_log_operation,
           idx_audit_log_record, idx_audit_log_txid;

CREATE TABLE audit_log (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    table_name  varchar(50) NOT NULL,
    operation   varchar(10) NOT NULL,
    record_id   uuid,
    user_id     uuid,
    ip_address  inet,
    old_data    jsonb,
    new_data    jsonb,
    created_at  timestamp DEFAULT (now() AT TIME ZONE 'UTC'),
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    txid        bigint NOT NULL DEFAULT txid_current(),
    db_role     text NOT NULL,
    db_login    text NOT NULL DEFAULT session_user
);
CREATE INDEX idx_audit_log_table ON audit_log USING brin (table_name);
CREATE INDEX idx_audit_log_user ON audit_log (user_id);
CREATE INDEX idx_audit_log_created ON audit_log USING brin (created_at);
CREATE INDEX idx_audit_log_operation ON audit_log (operation) WHERE operation = 'DELETE';
CREATE INDEX idx_audit_log_record ON audit_log (record_id);
CREATE INDEX idx_audit_log_txid ON audit_log USING brin (txid);
CREATE TRIGGER prevent_audit_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION prevent_audit_modification();
CREATE TRIGGER prevent_audit_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_audit_modification();

INSERT INTO audit_log OVERRIDING SYSTEM VALUE
SELECT id, table_name, operation, record_id, user_id, ip_address, old_data, new_data, created_at, seq, txid,
       db_role, db_login
FROM audit_log_partitioned;
SELECT setval(pg_get_serial_sequence('audit_log', 'seq'),
              coalesce((SELECT max(seq) FROM audit_log_partitioned), 0) + 1, false);
GRANT SELECT ON audit_log TO ledger_system;

DROP TABLE audit_log_partitioned;
DROP FUNCTION audit_ensure_partitions(int);
DROP FUNCTION audit_create_partition(date);
