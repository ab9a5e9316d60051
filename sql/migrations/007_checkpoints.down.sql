REVOKE DELETE ON reconciliation_items FROM ledger_system;
DROP INDEX idx_reconciliation_runs_partition;
ALTER TABLE reconciliation_runs DROP COLUMN snapshot;
DROP TABLE reconciliation_watermark;
DROP TABLE reconciliation_checkpoints;
REVOKE INSERT (id, transaction_id, account_id, entry_type, amount, currency, created_at),
       UPDATE (id, transaction_id, account_id, entry_type, amount, currency, created_at)
    ON entries FROM ledger_system;
GRANT INSERT, UPDATE ON entries TO ledger_system;
DROP INDEX idx_entries_arrival;
ALTER TABLE entries DROP COLUMN arrival_xid;
