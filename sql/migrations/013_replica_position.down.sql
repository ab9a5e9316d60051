ALTER TABLE reconciliation_runs
    DROP COLUMN replica_replay_lsn,
    DROP COLUMN replica_replayed_at,
    DROP COLUMN replica_lag_seconds,
    DROP COLUMN replica_lag_bytes;
