"""The benchmark suite in small: its builder makes a ledger the engine accepts, and its floor
(benchmarks/floor.sql) finds exactly what a full run records; the rows it writes without their
audit rows trip the audit trail check alone; the memory benchmark runs end to end. No timings here,
and no memory figures: at this size they would mean nothing."""

import argparse
from collections import Counter

from benchmarks import findings_memory
from benchmarks.suite import Scratch, build_ledger, floor, plant_faults, plant_unaudited
from ledger_pipeline.reconciliation import Scope, reconcile

# What benchmarks/floor.sql answers; the suite's ledger trips none of the other checks.
FLOOR_CHECKS = ("debits_equal_credits", "liability_balances_non_negative", "transactions_balanced",
                "stored_balances_match_entries")

FINDINGS = (
    "SELECT check_name, account_id, transaction_id, currency, expected, actual FROM reconciliation_items"
    " WHERE run_id = %s AND (status = 'mismatch' OR check_name = 'debits_equal_credits')"
    "   AND check_name = ANY(%s)"  # what the floor computes
)


def recorded(ledger, result) -> list[tuple]:
    with ledger.system_context() as conn:
        return conn.execute(FINDINGS, (result.run_id, list(FLOOR_CHECKS))).fetchall()


def test_the_floor_finds_what_a_full_run_records(ledger_url, ledger):
    build_ledger(ledger_url, 2_000, days=30, wallets=40)
    clean = reconcile(ledger, Scope("manual"))
    assert clean.status == "passed"  # the audit checks too: the builder writes the audit rows
    assert clean.row["transactions_checked"] == 1_000
    assert Counter(floor(ledger_url)) == Counter(recorded(ledger, clean))

    plant_faults(ledger_url, unbalanced=3, mislabelled=2, overdrawn=2, drifted=3)
    result = reconcile(ledger, Scope("manual"))
    found = floor(ledger_url)
    assert result.status == "failed"
    # The faults are written around the triggers, as a buggy writer would: the trail shows it.
    assert not result.checks["audit_trail_complete"].passed
    assert Counter(found) == Counter(recorded(ledger, result))
    per_check = Counter(row[0] for row in found if row[4] != row[5])
    # A mislabelled transaction is unbalanced in both account currencies.
    assert per_check == {"transactions_balanced": 3 + 2 * 2, "liability_balances_non_negative": 2,
                         "stored_balances_match_entries": 3, "debits_equal_credits": 2}
    assert set(per_check) == set(FLOOR_CHECKS)
    totals = [row for row in found if row[0] == "debits_equal_credits"]
    assert (sum(r[4] for r in totals), sum(r[5] for r in totals)) == (result.row["total_debits"], result.row["total_credits"])


def test_rows_written_without_their_audit_rows_trip_the_audit_trail_check_alone(ledger_url, ledger):
    build_ledger(ledger_url, 2_000, days=30, wallets=40)
    assert reconcile(ledger, Scope("manual")).status == "passed"
    plant_unaudited(ledger_url, 100)
    result = reconcile(ledger, Scope("manual"))
    assert {name for name, c in result.checks.items() if not c.passed} == {"audit_trail_complete"}
    assert result.checks["audit_trail_complete"].unexpected_count == 100 == result.row["mismatch_count"]


def test_the_findings_memory_benchmark_measures_each_case_with_every_finding_recorded(server_url):
    args = argparse.Namespace(wallets=40, findings=500)
    # peak_memory_mb refuses a run that did not record every finding.
    with Scratch(server_url, "4MB") as scratch:
        sizes = {2_000: findings_memory.measure(scratch, 2_000, args)}
    assert set(sizes[2_000]) == {"clean", "unaudited", "unbalanced"}
    section = findings_memory.report(sizes, args, "x")
    assert section.startswith(findings_memory.SECTION)
    assert "500 ledger rows without their audit rows" in section and "500 unbalanced transactions" in section
