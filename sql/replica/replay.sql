-- How far the streaming replica has replayed the primary's WAL, against {primary_lsn}, the
-- primary's position when the run began. Caught up: no lag. Behind: the lag is the time since the
-- last transaction it replayed committed (NULL if it replayed none since it started), the usual
-- measure, as pg_stat_replication's replay_lag needs the primary.
SELECT
    pg_is_in_recovery() AS in_recovery,
    pg_last_wal_replay_lsn() AS replay_lsn,
    pg_last_xact_replay_timestamp() AS replayed_at,
    CASE WHEN pg_last_wal_replay_lsn() >= {primary_lsn}::pg_lsn THEN 0
         ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END AS lag_seconds,
    greatest(pg_wal_lsn_diff({primary_lsn}::pg_lsn, pg_last_wal_replay_lsn()), 0) AS lag_bytes
