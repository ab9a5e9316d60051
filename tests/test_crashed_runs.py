"""Runs the machinery failed, on a real instance: `ledger-pipeline start`, its daemon, the test's
dagster.yaml with run monitoring polling every second.

- A run worker killed mid-reconciliation: the next run closes its row, run monitoring fails its
  Dagster run (and frees the one slot of the full reconciliation pool), the alert sensor reports it
  once, as a run that could not complete.
- A run whose start the code server could not serve in time: run monitoring fails it for the start
  timeout, run retries launch it again, and the retry completes; neither attempt is alerted or
  escalated, since nothing was found.
- A code server frozen for longer than Dagster's heartbeat allows (30 s by default), with a run
  waiting to start: once it resumes, it starts the run, and serves every run after it.
"""

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psutil
import psycopg
import yaml
from alert_receiver import AlertReceiver
from dagster._core.scheduler.instigation import TickStatus
from dagster._core.storage.tags import PARENT_RUN_ID_TAG, WILL_RETRY_TAG
from dagster_graphql import DagsterGraphQLClient
from test_cli import CLI
from test_end_to_end import answering, finished, free_port, pipeline_env, wait_for
from test_shutdown import reconciliation_of, waiting_on_a_lock

from ledger_pipeline.defs.reconciliation.sensors import ESCALATED_FROM_TAG
from ledger_pipeline.defs.run_launcher import _worker
from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.platform import dev

FROZEN_SECONDS = 45


@contextmanager
def pipeline(ledger_url, databases, tmp_path, monkeypatch, configure):
    """`ledger-pipeline start` on the test ledger, with Dagster's instance config changed by
    ``configure``; yields the GraphQL client, the instance and the alert receiver, and checks that
    Ctrl-C stops it cleanly."""
    env = pipeline_env(ledger_url, databases, tmp_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load(dev.INSTANCE_CONFIG.read_text())
    config["run_monitoring"]["poll_interval_seconds"] = 1
    configure(config)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    receiver = AlertReceiver().start()
    env["LEDGER_ALERT_URLS"] = receiver.url
    port = free_port()
    log = open(tmp_path / "start.log", "w")
    process = subprocess.Popen([CLI, "start", "--port", str(port), "--no-first-runs"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    monkeypatch.setenv("DAGSTER_PG_URL", env["DAGSTER_PG_URL"])
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        wait_for(lambda: answering(f"http://127.0.0.1:{port}/server_info"), 180, "the webserver")
        yield DagsterGraphQLClient("127.0.0.1", port_number=port), instance, receiver
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=240)
        receiver.stop()
        instance.dispose()
        log.close()
    assert code == 0, (tmp_path / "start.log").read_text()[-3000:]


def code_server_of(instance: dg.DagsterInstance, run_id: str) -> psutil.Process:
    """The code server that started the run's worker (its parent)."""
    return psutil.Process(_worker(instance, run_id)[0]).parent()


def held_full_run(client: DagsterGraphQLClient, ledger_url: str, blocker: psycopg.Connection) -> str:
    """A full reconciliation in flight, waiting on the lock ``blocker`` takes on entries."""
    blocker.execute("LOCK TABLE entries IN ACCESS EXCLUSIVE MODE")
    run_id = client.submit_job_execution("full_reconciliation_job")
    wait_for(lambda: reconciliation_of(ledger_url, run_id) == ("running", None), 180, "the run to start")
    wait_for(lambda: waiting_on_a_lock(ledger_url), 60, "the run to wait on the lock")
    return run_id


@contextmanager
def frozen_as_the_hourly_check_starts(client: DagsterGraphQLClient, instance: dg.DagsterInstance, ledger_url: str,
                                      blocker: psycopg.Connection) -> Iterator[str]:
    """An hourly check queued behind a held full run (one run at a time), and the code server
    frozen, as on a machine too loaded to serve it, from the moment the held run has recorded its
    reconciliation: the daemon dequeues the hourly check and its StartRun call waits unanswered.
    Yields the hourly check's run id; resumes the code server on exit."""
    held = held_full_run(client, ledger_url, blocker)
    hourly = client.submit_job_execution("hourly_balance_check_job")
    assert client.get_run_status(hourly).value == "QUEUED"
    code_server = code_server_of(instance, held)
    blocker.rollback()
    wait_for(lambda: (reconciliation_of(ledger_url, held) or ("",))[0] == "passed", 120,
             "the held run to record its reconciliation")
    code_server.suspend()
    try:
        yield hourly
    finally:
        code_server.resume()


def test_a_killed_run_is_failed_by_run_monitoring_closed_by_the_next_run_and_alerted_once(
    ledger, ledger_url, databases, tmp_path, monkeypatch
):
    write_demo_data(ledger, 50, users=2, days=2, seed=5)

    def configure(config):
        config["run_retries"]["enabled"] = False  # the killed run is the last attempt: it is alerted

    with pipeline(ledger_url, databases, tmp_path, monkeypatch, configure) as (client, instance, receiver), \
            psycopg.connect(ledger_url) as blocker:
        killed = held_full_run(client, ledger_url, blocker)

        # The worker dies with its code server unable to notice (paused), which is the case run
        # monitoring exists for: only the daemon can fail the run.
        worker = psutil.Process(_worker(instance, killed)[0])
        code_server = worker.parent()
        code_server.suspend()
        try:
            for proc in [*worker.children(recursive=True), worker]:  # the step's process, then the run's
                proc.kill()
            status = wait_for(lambda: (s := client.get_run_status(killed)).value != "STARTED" and s, 60,
                              "run monitoring to fail the run")
        finally:
            code_server.resume()
        assert status.value == "FAILURE"
        failures = instance.get_records_for_run(killed, of_type=dg.DagsterEventType.RUN_FAILURE).records
        assert any("Detected run worker status" in r.event_log_entry.message for r in failures)

        blocker.rollback()
        # The next full reconciliation gets the pool's one slot, and closes the abandoned row.
        following = client.submit_job_execution("full_reconciliation_job")
        assert wait_for(lambda: finished(client, following), 180, "the next run").value == "SUCCESS"
        status, error = reconciliation_of(ledger_url, killed)
        assert status == "error" and error.startswith("abandoned"), error
        assert reconciliation_of(ledger_url, following)[0] == "passed"

        wait_for(lambda: receiver.about(killed), 120, "the alert")
        alerted_at = time.time()
        wait_for(lambda: sensor_ticks_since(instance, "reconciliation_alerts", alerted_at), 120,
                 "another alert sensor tick")
        [alert] = receiver.about(killed)
        assert "could not complete (not a finding" in alert["title"] and receiver.about(following) == []


def test_a_run_the_code_server_could_not_start_in_time_is_retried_and_completes_without_an_alarm(
    ledger, ledger_url, databases, tmp_path, monkeypatch
):
    write_demo_data(ledger, 50, users=2, days=2, seed=5)

    def configure(config):
        config["concurrency"]["runs"]["max_concurrent_runs"] = 1  # the hourly check queues behind the held run
        config["run_monitoring"]["start_timeout_seconds"] = 10

    with pipeline(ledger_url, databases, tmp_path, monkeypatch, configure) as (client, instance, receiver), \
            psycopg.connect(ledger_url) as blocker:
        with frozen_as_the_hourly_check_starts(client, instance, ledger_url, blocker) as hourly:
            status = wait_for(lambda: finished(client, hourly), 120, "run monitoring to fail the hourly check's start")
        assert status.value == "FAILURE"
        [failure] = instance.get_records_for_run(hourly, of_type=dg.DagsterEventType.RUN_FAILURE).records
        assert "timed out due to taking longer than 10 seconds to start" in failure.event_log_entry.message
        assert instance.get_run_by_id(hourly).tags.get(WILL_RETRY_TAG) == "true"
        assert reconciliation_of(ledger_url, hourly) is None  # it never ran a step

        [retry] = wait_for(lambda: instance.get_runs(dg.RunsFilter(tags={PARENT_RUN_ID_TAG: hourly})), 180,
                           "run retries to launch the hourly check again")
        assert wait_for(lambda: finished(client, retry.run_id), 180, "the retry").value == "SUCCESS"
        assert reconciliation_of(ledger_url, retry.run_id)[0] == "passed"

        settled = time.time()
        for sensor in ("reconciliation_alerts", "escalate_failed_hourly_check"):
            wait_for(lambda: sensor_ticks_since(instance, sensor, settled), 120, f"a tick of {sensor} after the retry")
        assert receiver.about(hourly) == [] and receiver.about(retry.run_id) == []
        assert instance.get_runs(dg.RunsFilter(tags={ESCALATED_FROM_TAG: hourly})) == []
        assert instance.get_runs(dg.RunsFilter(tags={ESCALATED_FROM_TAG: retry.run_id})) == []


def test_a_code_server_frozen_past_its_heartbeat_starts_the_waiting_run_once_it_resumes(
    ledger, ledger_url, databases, tmp_path, monkeypatch
):
    write_demo_data(ledger, 50, users=2, days=2, seed=5)

    def configure(config):
        config["concurrency"]["runs"]["max_concurrent_runs"] = 1  # the hourly check queues behind the held run

    with pipeline(ledger_url, databases, tmp_path, monkeypatch, configure) as (client, instance, receiver), \
            psycopg.connect(ledger_url) as blocker:
        # Past Dagster's heartbeat TTL: a code server that shut itself down for it would leave the
        # location in error (dev.py).
        with frozen_as_the_hourly_check_starts(client, instance, ledger_url, blocker) as hourly:
            time.sleep(FROZEN_SECONDS)
        assert wait_for(lambda: finished(client, hourly), 300, "the hourly check").value == "SUCCESS"
        assert reconciliation_of(ledger_url, hourly)[0] == "passed"
        following = client.submit_job_execution("hourly_balance_check_job")
        assert wait_for(lambda: finished(client, following), 180, "the next run").value == "SUCCESS"
        assert receiver.about(hourly) == []


def sensor_ticks_since(instance: dg.DagsterInstance, sensor: str, since: float) -> int:
    """Evaluations of the sensor that started after ``since``."""
    [state] = [s for s in instance.all_instigator_state() if s.name == sensor]
    ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, after=since,
                               statuses=[TickStatus.SKIPPED, TickStatus.SUCCESS, TickStatus.FAILURE])
    return len(ticks)
