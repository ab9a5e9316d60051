"""What the sensors make of finished runs: each logical failure once (a run Dagster will retry is
not one), and a run the machinery failed told apart from a reconciliation that found a fault."""

import dagster as dg
import pytest
from dagster._core.storage.tags import MAX_RETRIES_TAG, WILL_RETRY_TAG

from ledger_pipeline.definitions import defs
from ledger_pipeline.defs import run_history
from ledger_pipeline.defs.alerting.sensors import compose_alert
from ledger_pipeline.defs.resources import LedgerResource
from ledger_pipeline.defs.run_history import finished_runs
from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.ledger.faults import inject

START_TIMEOUT = "Run timed out due to taking longer than 300 seconds to start."


def failed_run(instance: dg.DagsterInstance, job: str, **tags) -> dg.DagsterRun:
    """A run the machinery failed before it started, as run monitoring fails one."""
    run = instance.create_run_for_job(defs.resolve_job_def(job), tags=tags)
    instance.report_run_failed(run, START_TIMEOUT)
    return instance.get_run_by_id(run.run_id)


def test_a_failure_dagster_will_retry_is_passed_over_and_the_last_attempt_counts_once():
    with dg.instance_for_test(overrides={"run_retries": {"enabled": True, "max_retries": 1}}) as instance:
        first = failed_run(instance, "hourly_balance_check_job")
        assert first.tags[WILL_RETRY_TAG] == "true"
        retry = failed_run(instance, "hourly_balance_check_job", **{MAX_RETRIES_TAG: "0"})
        assert retry.tags[WILL_RETRY_TAG] == "false"
        seen = list(finished_runs(instance, 0))
        assert [f.run.run_id for f in seen] == [retry.run_id]
        assert seen[0].failed and seen[0].failure == START_TIMEOUT


def test_a_failure_not_yet_judged_for_a_retry_holds_the_sensors_back_for_a_while(tmp_path, monkeypatch):
    # Written where retries are off (as before they were turned on), read where they are on: the
    # failure carries no decision, as for the moment between the failure event and its tag.
    with dg.instance_for_test(temp_dir=str(tmp_path)) as writer:
        run = failed_run(writer, "hourly_balance_check_job")
        assert WILL_RETRY_TAG not in run.tags
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides={"run_retries": {"enabled": True}}) as reader:
        assert list(finished_runs(reader, 0)) == []
        monkeypatch.setattr(run_history, "UNDECIDED_SECONDS", 0)
        assert [f.run.run_id for f in finished_runs(reader, 0)] == [run.run_id]


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_a_machinery_failure_alerts_differently_from_a_failed_check(ledger, ledger_url, instance, monkeypatch):
    monkeypatch.setenv("LEDGER_DATABASE_URL", ledger_url)
    demo = write_demo_data(ledger, 60, users=2, days=2, seed=8)
    inject(ledger, demo, "one-sided-entry")
    found = defs.resolve_job_def("hourly_balance_check_job").execute_in_process(instance=instance)
    assert found.success
    timed_out = failed_run(instance, "hourly_balance_check_job")
    ledger_db = LedgerResource(url=ledger_url)
    alerts = {f.run.run_id: compose_alert(instance, ledger_db, f, ["debits_equal_credits"] if not f.failed else [])
              for f in finished_runs(instance, 0)}
    finding, machinery = alerts[found.run_id], alerts[timed_out.run_id]
    assert finding.title == "Ledger reconciliation failed: debits_equal_credits"
    assert machinery.title == "Ledger pipeline: a reconciliation run could not complete (not a finding about the ledger)"
    assert f"The run could not complete: {START_TIMEOUT}; no reconciliation was recorded" in machinery.body
    assert "could not complete" not in finding.body and "Failing checks: debits_equal_credits" in finding.body
