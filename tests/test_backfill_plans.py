"""A fanned-out backfill's plan: what moved after each chunk's end, read once before the chunks run."""

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from test_checkpoints import DAY, day, dipping_wallet, from_scratch, midnight, one_sided, recorded

from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.reconciliation import Scope, backfill_plans, reconcile, reconcile_windows


def first_chunk() -> list:
    return [day(n) for n in range(6, 2, -1)]  # days 6 to 3 ago


def second_chunk() -> list:
    return [day(n) for n in range(2, -1, -1)]  # the last two days and today


@pytest.fixture
def dipped(ledger):
    """A wallet below zero at the end of a day of the first chunk, recovered in the second."""
    cash = write_demo_data(ledger, 150, users=3, days=7, seed=9).house("CASH", "USD")
    wallet = dipping_wallet(ledger, cash, dips_on=3)
    assert reconcile(ledger, Scope("manual")).status == "passed"
    return cash, wallet


def chunk_ends() -> list[dt.datetime]:
    return [first_chunk()[-1][2], second_chunk()[-1][2]]


def assert_days_match_from_scratch(ledger, results, days) -> None:
    assert [r.row["partition_key"] for r in results] == [key for key, _, _ in days]
    for result, (_, start, end) in zip(results, days):
        assert recorded(ledger, result) == from_scratch(ledger, start, end)


def test_a_plan_holds_what_each_account_moved_from_each_chunk_end_on(ledger, dipped):
    ends = [midnight(n) for n in range(5, -2, -1)]  # daily: the dipping wallet skips days
    plan = backfill_plans.make(ledger, ends)
    with ledger.system_context() as conn:
        for k, end in enumerate(ends, 1):
            held = conn.execute(
                "SELECT account_id, coalesce(debits[%(k)s], 0), coalesce(credits[%(k)s], 0) FROM backfill_tails"
                " WHERE plan_id = %(plan)s AND coalesce(debits[%(k)s], 0) + coalesce(credits[%(k)s], 0) > 0",
                {"k": k, "plan": plan}).fetchall()
            moved = conn.execute(
                "SELECT account_id, coalesce(sum(amount) FILTER (WHERE entry_type = 'debit'), 0),"
                "       coalesce(sum(amount) FILTER (WHERE entry_type = 'credit'), 0)"
                " FROM entries WHERE created_at >= %s GROUP BY account_id", (end,)).fetchall()
            assert set(held) == set(moved) and len(held) == len(moved)
    assert set(moved) == set()  # nothing from tomorrow on


def test_chunks_that_read_their_tail_from_the_plan_count_postings_that_arrived_after_it(ledger, dipped):
    cash, wallet = dipped
    plan = backfill_plans.make(ledger, chunk_ends())
    # Arrives after the plan, dated after the first chunk: the first chunk's balances as of its
    # days' ends must take it back out, or the dip at the end of day 3 (-10) would read as +20.
    with ledger.system_context() as conn:
        post_transaction(conn, "TRANSFER", [Entry(cash, "debit", Decimal(30)), Entry(wallet, "credit", Decimal(30))],
                         created_at=midnight(1) + DAY / 4)

    first = reconcile_windows(ledger, "backfill", first_chunk(), plan=plan)
    assert_days_match_from_scratch(ledger, first, first_chunk())
    [failed] = [r for r in first if r.status == "failed"]
    assert failed.row["partition_key"] == day(3)[0]
    assert ("liability_balances_non_negative", wallet, "USD", Decimal(-10)) in recorded(ledger, failed)
    assert_days_match_from_scratch(ledger, reconcile_windows(ledger, "backfill", second_chunk(), plan=plan),
                                   second_chunk())


def test_a_chunk_reads_the_plan_and_without_one_reads_the_entries(ledger, ledger_url, dipped):
    _, wallet = dipped
    plan = backfill_plans.make(ledger, chunk_ends())
    # A plan that says the wallet received 1000 less later puts it 1000 higher at the dip.
    with psycopg.connect(ledger_url) as owner:
        assert owner.execute("UPDATE backfill_tails SET credits[1] = credits[1] - 1000"
                             " WHERE plan_id = %s AND account_id = %s", (plan, wallet)).rowcount == 1
    trusting = reconcile_windows(ledger, "backfill", first_chunk(), plan=plan)
    assert {r.status for r in trusting} == {"passed"}  # read from the plan, not the entries

    backfill_plans.drop(ledger, plan)
    without = reconcile_windows(ledger, "backfill", first_chunk(), plan=plan)
    assert_days_match_from_scratch(ledger, without, first_chunk())
    assert "failed" in {r.status for r in without}
    with ledger.system_context() as conn:
        assert conn.execute("SELECT count(*) FROM backfill_tails WHERE plan_id = %s", (plan,)).fetchone()[0] == 0


def test_a_plan_is_read_on_the_replica_and_written_on_the_primary(replicated):
    primary, on_replica, pair = replicated.primary, replicated.replicated, replicated.pair
    demo = write_demo_data(primary, 120, users=3, days=7, seed=13)
    one_sided(primary, demo.house("CASH", "USD"), "2.00", midnight(5) + DAY / 3)
    pair.wait_replayed()
    assert reconcile(on_replica, Scope("manual")).status == "failed"
    plan = backfill_plans.make(on_replica, chunk_ends())
    pair.wait_replayed()
    with primary.system_context() as conn:
        assert conn.execute("SELECT count(*) FROM backfill_tails WHERE plan_id = %s", (plan,)).fetchone()[0] > 0
    for days in (first_chunk(), second_chunk()):
        planned = reconcile_windows(on_replica, "backfill", days, plan=plan)
        assert all(r.status in ("passed", "failed") for r in planned), planned[0].error
        assert_days_match_from_scratch(primary, planned, days)
    assert [r.status for r in planned] == ["passed"] * 3
