-- Migration 007: verified checkpoints on arrival order, so a reconciliation's cost follows the
-- entries that arrived since the last one rather than the size of the ledger.
--
-- Arrival is the database transaction that inserted an entry (pg_current_xact_id()), not its value
-- date: post_transaction accepts a past created_at, so a backdated entry lands in a day that may
-- already have been checked. A sequence would not do either: its values are taken before commit,
-- so rows become visible out of sequence order. The checkpoint's watermark is instead the xmin of
-- the snapshot that built it: every transaction below it had ended by then, so no entry with an
-- arrival_xid below the watermark can still appear, and everything at or above it is read again.

-- Rows written before this migration count as having arrived at the beginning (xid 0); a constant
-- default keeps the ALTER from rewriting the table.
ALTER TABLE entries ADD COLUMN arrival_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE entries ALTER COLUMN arrival_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX idx_entries_arrival ON entries (arrival_xid);

-- No role may choose an entry's arrival: the system role writes every other column.
REVOKE INSERT, UPDATE ON entries FROM ledger_system;
GRANT INSERT (id, transaction_id, account_id, entry_type, amount, currency, created_at),
      UPDATE (id, transaction_id, account_id, entry_type, amount, currency, created_at)
    ON entries TO ledger_system;

-- Per account and entry currency, the totals of every entry with arrival_xid below the watermark.
CREATE TABLE reconciliation_checkpoints (
    account_id uuid NOT NULL REFERENCES accounts (id),
    currency   char(3) NOT NULL,  -- the entries' own label, which may differ from the account's
    debits     numeric NOT NULL,
    credits    numeric NOT NULL,
    entries    bigint NOT NULL,
    PRIMARY KEY (account_id, currency)
);

-- One row: the watermark of the checkpoint and the runs that built and last extended it.
CREATE TABLE reconciliation_watermark (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    arrival_xid    xid8 NOT NULL,
    established_by uuid REFERENCES reconciliation_runs (id),
    extended_by    uuid REFERENCES reconciliation_runs (id),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- What each run saw, so a later arrival into its period is recognised as one it did not see.
ALTER TABLE reconciliation_runs ADD COLUMN snapshot pg_snapshot;
CREATE INDEX idx_reconciliation_runs_partition ON reconciliation_runs (partition_key, started_at DESC)
    WHERE partition_key IS NOT NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON reconciliation_checkpoints, reconciliation_watermark TO ledger_system;
GRANT DELETE ON reconciliation_items TO ledger_system;
