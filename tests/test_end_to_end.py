import os
import signal
import socket
import subprocess
import time
import urllib.request
from urllib.parse import urlsplit

import dagster as dg
import psutil
from dagster_graphql import DagsterGraphQLClient
from test_cli import CLI

from ledger_pipeline.first_start import FIRST_JOBS, FIRST_START_TAG, launch_first_runs
from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.reconciliation.recorder import history


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def answering(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


def pipeline_env(ledger_url: str, databases, tmp_path) -> dict[str, str]:
    """The environment of a pipeline on the test ledger, with Dagster's storage in a new database."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_PG_URL"}
    env.update({
        "LEDGER_DATABASE_URL": ledger_url,
        "DAGSTER_PG_URL": urlsplit(databases.create())._replace(scheme="postgresql+psycopg2").geturl(),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        # Not the checkout's inbox: the demo's statements and the inbox sensor stay with the test.
        "LEDGER_STATEMENTS_INBOX": str(tmp_path / "inbox"),
    })
    return env


def all_first_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun] | None:
    """The first start's runs once all are submitted (they go one after another)."""
    runs = instance.get_runs(dg.RunsFilter(tags={FIRST_START_TAG: "true"}))
    return runs if len(runs) == len(FIRST_JOBS) else None


def finished(client: DagsterGraphQLClient, run_id: str):
    status = client.get_run_status(run_id)
    return status.value in ("SUCCESS", "FAILURE", "CANCELED") and status


def test_a_first_start_runs_the_pipeline_then_the_webserver_and_daemon_run_what_is_launched_over_graphql(
    ledger, ledger_url, databases, tmp_path, monkeypatch
):
    write_demo_data(ledger, 50, users=2, days=2, seed=5)
    port = free_port()
    env = pipeline_env(ledger_url, databases, tmp_path)
    log = open(tmp_path / "start.log", "w")
    process = subprocess.Popen([CLI, "start", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    monkeypatch.setenv("DAGSTER_PG_URL", env["DAGSTER_PG_URL"])
    try:
        wait_for(lambda: answering(f"http://127.0.0.1:{port}/server_info"), 180, "the webserver")
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
        first = wait_for(lambda: all_first_runs(instance), 300, "the first start's runs")
        assert sorted(r.job_name for r in first) == sorted(FIRST_JOBS)
        assert launch_first_runs("127.0.0.1", port, say=print) == []  # a later start launches nothing
        for run in first:
            status = wait_for(lambda: finished(client, run.run_id), 600, f"{run.job_name} to finish")
            assert status.value == "SUCCESS", (tmp_path / "start.log").read_text()[-3000:]
        run_id = client.submit_job_execution("full_reconciliation_job")
        status = wait_for(lambda: finished(client, run_id), 600, "the queued run to finish")
        assert status.value == "SUCCESS", (tmp_path / "start.log").read_text()[-3000:]
        [run] = [r for r in history(ledger, 10) if r["dagster_run_id"] == run_id]
        assert (run["status"], run["run_type"]) == ("passed", "manual")
        instance.dispose()
    finally:
        children = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        log.close()
    assert code == 0
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == []  # the webserver, the daemon and the code server stopped with it


def test_ctrl_c_stops_everything_including_the_embedded_server(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DATABASE_URL", "DAGSTER_PG_URL")}
    env.update({"LEDGER_EMBEDDED_DIR": str(tmp_path / "pg"), "DAGSTER_HOME": str(tmp_path / "dagster_home")})
    log = open(tmp_path / "start.log", "w")
    process = subprocess.Popen([CLI, "start", "--port", str(port), "--transactions", "20", "--no-first-runs"], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: answering(f"http://127.0.0.1:{port}/server_info"), 180, "the webserver")
        embedded = [p for p in psutil.process_iter(["cmdline"])
                    if str(tmp_path / "pg") in " ".join(p.info["cmdline"] or []) and p.pid != process.pid]
        assert embedded, "the embedded server is not running"
        children = psutil.Process(process.pid).children(recursive=True)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        log.close()
    assert code == 0
    _, alive = psutil.wait_procs(children + embedded, timeout=30)
    assert alive == [], (tmp_path / "start.log").read_text()[-2000:]
    assert "Dagster UI: http://127.0.0.1:" in (tmp_path / "start.log").read_text()


def test_schedules_are_turned_on_from_the_command_line(ledger_url, databases, tmp_path):
    env = pipeline_env(ledger_url, databases, tmp_path)

    def dagster(*args) -> str:
        done = subprocess.run([CLI, "dagster", *args, "-w", "workspace.yaml"], env=env, capture_output=True,
                              text=True, timeout=180, cwd=os.path.dirname(os.path.dirname(__file__)))
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    assert "Schedule: hourly_balance_check [STOPPED]" in dagster("schedule", "list")
    dagster("schedule", "start", "hourly_balance_check")
    listed = dagster("schedule", "list")
    assert "Schedule: hourly_balance_check [RUNNING]" in listed
    assert "Schedule: daily_full_reconciliation [STOPPED]" in listed
