import os
import signal
import socket
import subprocess
import time
import urllib.request
from urllib.parse import urlsplit

import psutil
from dagster_graphql import DagsterGraphQLClient
from test_cli import CLI

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
    })
    return env


def test_webserver_and_daemon_run_a_full_reconciliation_launched_over_graphql(
    ledger, ledger_url, databases, tmp_path
):
    write_demo_data(ledger, 50, users=2, days=2, seed=5)
    port = free_port()
    env = pipeline_env(ledger_url, databases, tmp_path)
    log = open(tmp_path / "start.log", "w")
    process = subprocess.Popen([CLI, "start", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: answering(f"http://127.0.0.1:{port}/server_info"), 180, "the webserver")
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        run_id = client.submit_job_execution("full_reconciliation_job")
        status = wait_for(
            lambda: (s := client.get_run_status(run_id)).value in ("SUCCESS", "FAILURE", "CANCELED") and s,
            240, "the queued run to finish",
        )
        assert status.value == "SUCCESS", (tmp_path / "start.log").read_text()[-3000:]
        [run] = [r for r in history(ledger, 10) if r["dagster_run_id"] == run_id]
        assert (run["status"], run["run_type"]) == ("passed", "manual")
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
    process = subprocess.Popen([CLI, "start", "--port", str(port), "--transactions", "20"], env=env,
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
