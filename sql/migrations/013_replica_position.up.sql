-- Where a reconciliation read the ledger. NULL replica columns: it read the primary. Otherwise
-- the streaming replica's replay position when the run took its snapshot (every transaction the
-- primary had committed before that WAL position was visible to the run), the commit time of the
-- last transaction it had replayed, and how far it was behind the primary then.
ALTER TABLE reconciliation_runs
    ADD COLUMN replica_replay_lsn pg_lsn,
    ADD COLUMN replica_replayed_at timestamptz,
    ADD COLUMN replica_lag_seconds numeric,
    ADD COLUMN replica_lag_bytes numeric;
