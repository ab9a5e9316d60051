"""Reconciliations that read a streaming replica (made with pg_basebackup from a private primary)
and write their runs, items and checkpoint on the primary."""

import datetime as dt

from test_checkpoints import day, midnight, one_sided, recorded

from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.reconciliation import Scope, reconcile, reconcile_windows


def watermark_and_arrival(db, txn) -> tuple[int, int]:
    with db.system_context() as conn:
        return conn.execute("SELECT (SELECT arrival_xid FROM reconciliation_watermark)::text::bigint,"
                            " (SELECT min(arrival_xid) FROM entries WHERE transaction_id = %s)::text::bigint",
                            (txn,)).fetchone()


def test_a_fault_written_on_the_primary_is_reported_once_the_replica_has_replayed_it(replicated):
    primary, on_replica, pair = replicated.primary, replicated.replicated, replicated.pair
    demo = write_demo_data(primary, 120, users=3, days=4, seed=11)
    pair.wait_replayed()
    clean = reconcile(on_replica, Scope("manual"))
    assert clean.status == "passed", clean.error
    assert clean.row["replica_replay_lsn"] is not None and clean.row["replica_lag_seconds"] == 0

    fault = one_sided(primary, demo.house("CASH", "USD"), "7.00", midnight(2) + dt.timedelta(hours=3))
    pair.wait_replayed()
    quick = reconcile(on_replica, Scope.quick())
    assert quick.status == "failed"
    assert quick.checks["debits_equal_credits"].unexpected_count == 1

    # Reading the replica records exactly what reading the primary records.
    full = reconcile(on_replica, Scope("manual"))
    assert full.status == "failed"
    assert any(i[1] == fault for i in recorded(primary, full))
    assert recorded(primary, full) == recorded(primary, reconcile(primary, Scope("manual")))
    days = [day(n) for n in range(4, -1, -1)]
    replica_days = reconcile_windows(on_replica, "backfill", days)
    primary_days = reconcile_windows(primary, "backfill", days)
    assert [r.status for r in replica_days] == [r.status for r in primary_days], replica_days[0].error
    assert "failed" in {r.status for r in replica_days}
    for a, b in zip(replica_days, primary_days):
        assert recorded(primary, a) == recorded(primary, b)
        assert (a.row["accounts_checked"], a.row["transactions_checked"]) == \
            (b.row["accounts_checked"], b.row["transactions_checked"])
        assert a.row["replica_replay_lsn"] is not None and b.row["replica_replay_lsn"] is None


def test_a_run_against_a_paused_replica_does_not_pass_over_entries_it_has_not_seen(replicated):
    primary, on_replica, pair = replicated.primary, replicated.replicated, replicated.pair
    demo = write_demo_data(primary, 60, users=2, days=2, seed=5)
    pair.wait_replayed()
    assert reconcile(on_replica, Scope("manual")).status == "passed"

    pair.pause()
    fault = one_sided(primary, demo.house("CASH", "USD"), "5.00", midnight(0))
    unseen = reconcile(on_replica, Scope.quick())
    # Judged only what the replica had replayed, and said how far behind it was...
    assert unseen.status == "passed", unseen.error
    assert unseen.row["replica_lag_bytes"] > 0 and unseen.row["replica_lag_seconds"] > 0
    # ...without moving the checkpoint past the fault it has not seen.
    watermark, arrival = watermark_and_arrival(primary, fault)
    assert watermark <= arrival

    on_replica.replica_max_lag_seconds = 0.0
    stale = reconcile(on_replica, Scope.quick())
    assert stale.status == "error"
    assert "behind the primary" in stale.error and "LEDGER_REPLICA_MAX_LAG_SECONDS" in stale.error
    assert stale.row["replica_lag_bytes"] > 0

    pair.resume()
    pair.wait_replayed()
    on_replica.replica_max_lag_seconds = 60.0
    caught_up = reconcile(on_replica, Scope.quick())
    assert caught_up.status == "failed"
    assert caught_up.checks["debits_equal_credits"].unexpected_count == 1
