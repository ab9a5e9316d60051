-- Daily partitions made stale by late arrivals: entries that arrived (at or after {since}, an
-- arrival watermark) into the period of a partition whose latest completed run did not see them,
-- because they were not yet visible in that run's snapshot. Backdated postings and planted
-- faults alike. One row per stale partition, with the run it invalidates.
WITH latest AS (
    SELECT DISTINCT ON (partition_key) partition_key, id, period_start, period_end, snapshot
    FROM reconciliation_runs
    WHERE partition_key IS NOT NULL AND status IN ('passed', 'failed') AND snapshot IS NOT NULL
    ORDER BY partition_key, started_at DESC
)
SELECT l.partition_key, l.id AS run_id, count(*) AS late_entries, min(e.created_at) AS first_value_date
FROM entries e
JOIN latest l ON e.created_at >= l.period_start AND e.created_at < l.period_end
WHERE e.arrival_xid >= {since}
  AND NOT pg_visible_in_snapshot(e.arrival_xid, l.snapshot)
GROUP BY l.partition_key, l.id
ORDER BY l.partition_key
