"""The fanned-out backfill: chunks of days in parallel steps, on worker processes (the default
profile, no broker) or on Celery workers through RabbitMQ on 127.0.0.1:5672 (deploy/celery)."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import dagster as dg
import psutil
import psycopg
import pytest
from test_checkpoints import checkpoint_is_exact, day, midnight, one_sided, recorded

from ledger_pipeline.defs.reconciliation import backfill_job
from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.platform import settings
from ledger_pipeline.reconciliation import Scope, reconcile, reconcile_windows

DAYS = 6
CELERY_YAML = settings.PROJECT_DIR / "deploy" / "celery" / "celery.yaml"
DAGSTER_CELERY = str(Path(sys.executable).parent / "dagster-celery")
# The job rebuilt under the Celery profile. Dagster caches the job a pointer loads, per process:
# another pointer than the default profile test's, so each test gets the job of its profile.
CELERY_JOB = dg.build_reconstructable_job("ledger_pipeline.defs.reconciliation.backfill_job", "fanned_out_backfill")


@pytest.fixture
def faulty_days(ledger):
    """Six days of postings with a one-sided transaction on one day; the full run first, as the
    single-run backfill would have it."""
    demo = write_demo_data(ledger, 150, users=3, days=DAYS, seed=3)
    one_sided(ledger, demo.house("CASH", "USD"), "4.00", midnight(3) + dt.timedelta(hours=5))
    assert reconcile(ledger, Scope("manual")).status == "failed"
    return [day(n) for n in range(DAYS - 1, -1, -1)]


def run_config(ledger_url: str, days, chunk_days: int) -> dict:
    return {"ops": {"plan_chunks": {"config": {"first_day": days[0][0], "last_day": days[-1][0],
                                               "chunk_days": chunk_days}}},
            "resources": {"ledger_db": {"config": {"url": ledger_url}}}}


def per_day(ledger, dagster_run_ids) -> dict:
    """Each day's latest reconciliation among those the given Dagster runs recorded."""
    with ledger.system_context() as conn:
        rows = conn.execute(
            "SELECT DISTINCT ON (partition_key) partition_key, id, status FROM reconciliation_runs"
            " WHERE dagster_run_id = ANY(%s) ORDER BY partition_key, started_at DESC", (dagster_run_ids,)).fetchall()
    return {key: (run_id, status) for key, run_id, status in rows}


def plans(ledger) -> int:
    with ledger.system_context() as conn:
        return conn.execute("SELECT count(*) FROM backfill_plans").fetchone()[0]


def assert_same_as_single_run(ledger, fanned: dict, days) -> None:
    single = reconcile_windows(ledger, "backfill", days)
    assert sorted(fanned) == [r.row["partition_key"] for r in single]
    for result in single:
        run_id, status = fanned[result.row["partition_key"]]
        assert status == result.status
        assert recorded(ledger, type("R", (), {"run_id": run_id})) == recorded(ledger, result)
    assert {r.status for r in single} == {"passed", "failed"}


@pytest.fixture
def dagster_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield instance


def test_the_default_profile_fans_a_backfill_out_over_worker_processes_without_a_broker(
        ledger, ledger_url, faulty_days, dagster_home, monkeypatch):
    monkeypatch.delenv(settings.EXECUTOR_VAR, raising=False)
    result = dg.execute_job(dg.reconstructable(backfill_job.fanned_out_backfill), instance=dagster_home,
                            run_config=run_config(ledger_url, faulty_days, chunk_days=2))
    assert result.success
    steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert len([s for s in steps if s.startswith("reconcile_chunk")]) == 3
    assert plans(ledger) == 0  # dropped once every chunk was done
    assert_same_as_single_run(ledger, per_day(ledger, [result.run_id]), faulty_days)


@pytest.fixture(scope="module")
def celery_workers(tmp_path_factory):
    """Two Celery workers (one process each) on a queue of their own, started with the Celery
    profile's documented command."""
    queue = f"ledger_test_{uuid.uuid4().hex[:10]}"
    workers = []
    for n in (1, 2):
        # A home each: dagster-celery writes the worker's settings there, and two workers creating
        # one home's storage at once would race.
        home = tmp_path_factory.mktemp(f"celery-worker{n}")
        env = dict(os.environ, DAGSTER_HOME=str(home), **{settings.EXECUTOR_VAR: "celery",
                                                            settings.CELERY_QUEUE_VAR: queue})
        log = home / "worker.log"
        workers.append((subprocess.Popen(
            [DAGSTER_CELERY, "worker", "start", "-A", "dagster_celery.app", "-y", str(CELERY_YAML), "-q", queue,
             "-n", f"{queue}_{n}@%h", "--", "--concurrency=1"],
            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True), log))
    try:
        deadline = time.monotonic() + 120
        for process, log in workers:
            while "ready." not in log.read_text():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"worker not ready: {log.read_text()}"
                time.sleep(0.5)
        yield queue, [process for process, _ in workers]
    finally:
        for process, _ in workers:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)


@pytest.fixture
def celery_profile(celery_workers, monkeypatch):
    queue, processes = celery_workers
    monkeypatch.setenv(settings.EXECUTOR_VAR, "celery")
    monkeypatch.setenv(settings.CELERY_QUEUE_VAR, queue)
    return processes


def test_a_backfill_fanned_out_over_two_celery_workers_records_what_the_single_run_backfill_records(
        ledger, ledger_url, faulty_days, dagster_home, celery_profile):
    result = dg.execute_job(CELERY_JOB, instance=dagster_home,
                            run_config=run_config(ledger_url, faulty_days, chunk_days=3))
    assert result.success
    workers = {e.event_specific_data.metadata["Celery worker"].value for e in result.all_events
               if e.event_type_value == "ENGINE_EVENT" and e.event_specific_data
               and "Celery worker" in e.event_specific_data.metadata}
    assert len(workers) == 2
    assert checkpoint_is_exact(ledger)  # the chunks moved it side by side, by compare-and-set
    assert_same_as_single_run(ledger, per_day(ledger, [result.run_id]), faulty_days)


def test_a_worker_killed_mid_chunk_leaves_its_days_to_a_retry_of_the_backfill(
        ledger, ledger_url, faulty_days, dagster_home, celery_profile):
    killed = []

    def kill_one_worker_mid_chunk(lock: psycopg.Connection):
        try:
            # Every chunk has written its 'running' rows and waits on the lock: all are mid-chunk.
            deadline = time.monotonic() + 120
            with psycopg.connect(ledger_url, autocommit=True) as conn:
                while conn.execute("SELECT count(*) FROM reconciliation_runs WHERE status = 'running'"
                                   " AND run_type = 'backfill'").fetchone()[0] < DAYS:
                    if time.monotonic() > deadline:
                        return
                    time.sleep(0.1)
            # dagster-celery starts celery, whose pool process runs the chunk: that one dies.
            [celery] = psutil.Process(celery_profile[0].pid).children()
            [pool_process] = celery.children()
            pool_process.send_signal(signal.SIGKILL)
            killed.append(pool_process.pid)
        finally:
            lock.commit()  # whatever happened, the chunks go on

    with psycopg.connect(ledger_url) as lock:
        lock.execute("LOCK TABLE reconciliation_watermark IN ACCESS EXCLUSIVE MODE")
        killer = threading.Thread(target=kill_one_worker_mid_chunk, args=(lock,))
        killer.start()
        first = dg.execute_job(CELERY_JOB, instance=dagster_home,
                               run_config=run_config(ledger_url, faulty_days, chunk_days=3))
        killer.join()
    assert killed and not first.success
    after_kill = per_day(ledger, [first.run_id])
    lost = sorted(key for key, (_, status) in after_kill.items() if status == "running")
    assert len(lost) == 3 and {s for k, (_, s) in after_kill.items() if k not in lost} <= {"passed", "failed"}
    assert plans(ledger) == 1  # kept for the retry

    retry = dg.execute_job(CELERY_JOB, instance=dagster_home,
                           reexecution_options=dg.ReexecutionOptions.from_failure(first.run_id, dagster_home))
    assert retry.success
    assert plans(ledger) == 0
    with ledger.system_context() as conn:
        swept = conn.execute("SELECT partition_key, status, error FROM reconciliation_runs WHERE id = ANY(%s)",
                             ([after_kill[key][0] for key in lost],)).fetchall()
    assert {(key, status) for key, status, _ in swept} == {(key, "error") for key in lost}
    assert all(error.startswith("abandoned") for _, _, error in swept)
    assert_same_as_single_run(ledger, per_day(ledger, [first.run_id, retry.run_id]), faulty_days)


@pytest.mark.parametrize("first, last, says", [
    ("2026-13-01", "2026-01-02", "first_day must be a day like 2026-01-01, got '2026-13-01'"),
    ("1999-12-31", "2026-01-02", "first_day 1999-12-31 is outside the daily partitions, 2026-01-01 to today"),
    ("2026-01-01", "2999-01-01", "last_day 2999-01-01 is outside the daily partitions"),
    ("2026-01-05", "2026-01-01", "first_day 2026-01-05 is after last_day 2026-01-01"),
])
def test_a_backfill_over_days_that_are_not_partitions_is_refused_with_the_reason(first, last, says):
    with pytest.raises(dg.Failure, match=says):
        backfill_job.backfill_chunks(backfill_job.FannedOutBackfillConfig(first_day=first, last_day=last))
