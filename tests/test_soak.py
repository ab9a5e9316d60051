"""The soak's short form (benchmarks/soak.py; BENCHMARKS.md has a long run's figures): the whole
pipeline for half a minute of load with a planted fault, then drained and stopped."""

import sys

from ledger_pipeline.platform import settings

sys.path.insert(0, str(settings.PROJECT_DIR / "benchmarks"))
from soak import soak  # noqa: E402


def test_a_short_soak_finds_the_fault_escalates_and_alerts_once_and_leaves_nothing_running(server_url, tmp_path):
    report = soak(server_url, minutes=0.5, hourly_every=15, daily_every=30, clients=4, fault_from=0.1,
                  fault_until=0.5, sample_every=2, workdir=tmp_path)
    assert report["pipeline_exit_code"] == 0
    assert report["postings"]["committed"] > 0 and report["postings"]["failed"] == 0
    fault = report["fault"]
    assert fault["hourly_runs_that_found_it"] >= 1
    assert fault["escalations"] == fault["hourly_runs_that_found_it"]  # one per failed hourly check
    assert fault["failed_runs_alerted_once"] >= 1  # the hourly check (its escalation may run after the correction)
    assert fault["failed_runs_alerted_more_than_once"] == fault["failed_runs_not_alerted"] == 0
    assert report["rows_left_running"] == 0
    # A run the machinery failed may be retried, never alerted: no last attempt failed without a fault.
    assert [r for r in report["failed_dagster_runs"] if not r["found_a_fault"] and r["will_retry"] != "true"] == []
    ledger = next(name for name in report["connections_idle"]["before"] if not name.endswith("_dagster"))
    # Pools give their connections back: once idle again, the ledger has no more sessions than before.
    assert report["connections_idle"]["after"][ledger] <= report["connections_idle"]["before"][ledger]
