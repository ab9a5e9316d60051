"""A run worker killed mid-reconciliation: the next run closes its row, run monitoring fails its
Dagster run (and frees the one slot of the full reconciliation pool), the alert sensor reports it
once. A real instance: `ledger-pipeline start`, its daemon, the test's dagster.yaml with run
monitoring polling every second."""

import signal
import subprocess
import time

import dagster as dg
import psutil
import psycopg
import yaml
from alert_receiver import AlertReceiver
from dagster._core.scheduler.instigation import TickStatus
from dagster_graphql import DagsterGraphQLClient
from test_cli import CLI
from test_end_to_end import answering, free_port, pipeline_env, wait_for
from test_shutdown import reconciliation_of, waiting_on_a_lock

from ledger_pipeline.defs.run_launcher import _worker
from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.platform import dev


def test_a_killed_run_is_failed_by_run_monitoring_closed_by_the_next_run_and_alerted_once(
    ledger, ledger_url, databases, tmp_path, monkeypatch
):
    write_demo_data(ledger, 50, users=2, days=2, seed=5)
    env = pipeline_env(ledger_url, databases, tmp_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load(dev.INSTANCE_CONFIG.read_text())
    config["run_monitoring"]["poll_interval_seconds"] = 1
    config["run_retries"]["enabled"] = False  # the killed run is the last attempt: it is alerted
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    receiver = AlertReceiver().start()
    env["LEDGER_ALERT_URLS"] = receiver.url
    port = free_port()
    log = open(tmp_path / "start.log", "w")
    process = subprocess.Popen([CLI, "start", "--port", str(port), "--no-first-runs"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    blocker = psycopg.connect(ledger_url)
    blocker.execute("LOCK TABLE entries IN ACCESS EXCLUSIVE MODE")  # the run waits on it, in flight
    monkeypatch.setenv("DAGSTER_PG_URL", env["DAGSTER_PG_URL"])
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        wait_for(lambda: answering(f"http://127.0.0.1:{port}/server_info"), 180, "the webserver")
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        killed = client.submit_job_execution("full_reconciliation_job")
        wait_for(lambda: reconciliation_of(ledger_url, killed) == ("running", None), 180, "the run to start")
        wait_for(lambda: waiting_on_a_lock(ledger_url), 60, "the run to wait on the lock")

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
        wait_for(lambda: client.get_run_status(following).value in ("SUCCESS", "FAILURE"), 180, "the next run")
        assert client.get_run_status(following).value == "SUCCESS"
        status, error = reconciliation_of(ledger_url, killed)
        assert status == "error" and error.startswith("abandoned"), error
        assert reconciliation_of(ledger_url, following)[0] == "passed"

        wait_for(lambda: receiver.about(killed), 120, "the alert")
        alerted_at = time.time()
        wait_for(lambda: alert_ticks_since(instance, alerted_at), 120, "another alert sensor tick")
        [alert] = receiver.about(killed)
        assert "could not complete (not a finding" in alert["title"] and receiver.about(following) == []
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=240)
        blocker.close()
        receiver.stop()
        instance.dispose()
        log.close()
    assert code == 0, (tmp_path / "start.log").read_text()[-3000:]


def alert_ticks_since(instance: dg.DagsterInstance, since: float) -> int:
    """Evaluations of the alert sensor that started after ``since``."""
    [state] = [s for s in instance.all_instigator_state() if s.name == "reconciliation_alerts"]
    ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, after=since,
                               statuses=[TickStatus.SKIPPED, TickStatus.SUCCESS, TickStatus.FAILURE])
    return len(ticks)
