"""Stopping `ledger-pipeline start` leaves nothing behind, whatever was in flight."""

import os
import signal
import subprocess

import psutil
import psycopg
from dagster_graphql import DagsterGraphQLClient
from test_cli import CLI
from test_end_to_end import answering, free_port, pipeline_env, wait_for

from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.platform import settings


def reconciliation_of(url: str, dagster_run_id: str):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT status, error FROM reconciliation_runs WHERE dagster_run_id = %s",
                            (dagster_run_id,)).fetchone()


def waiting_on_a_lock(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                            " AND wait_event_type = 'Lock'").fetchone()[0] > 0


def project_processes() -> set[int]:
    """Processes whose command line names the project's directory (the venv's python does)."""
    found = set()
    for proc in psutil.process_iter(["cmdline"]):
        if str(settings.PROJECT_DIR) in " ".join(proc.info["cmdline"] or []):
            found.add(proc.pid)
    return found


def test_ctrl_c_with_a_reconciliation_in_flight_leaves_no_process_and_no_running_row(
    ledger, ledger_url, databases, tmp_path
):
    write_demo_data(ledger, 50, users=2, days=2, seed=5)
    before = project_processes()
    port = free_port()
    log = open(tmp_path / "start.log", "w")
    process = subprocess.Popen([CLI, "start", "--port", str(port), "--no-first-runs"],
                               env=pipeline_env(ledger_url, databases, tmp_path),
                               stdout=log, stderr=subprocess.STDOUT)
    # The reconciliation writes its 'running' row, then waits on this lock: in flight, deterministically.
    blocker = psycopg.connect(ledger_url)
    blocker.execute("LOCK TABLE entries IN ACCESS EXCLUSIVE MODE")
    try:
        wait_for(lambda: answering(f"http://127.0.0.1:{port}/server_info"), 180, "the webserver")
        run_id = DagsterGraphQLClient("127.0.0.1", port_number=port).submit_job_execution("full_reconciliation_job")
        wait_for(lambda: reconciliation_of(ledger_url, run_id) == ("running", None), 180, "the run to start")
        wait_for(lambda: waiting_on_a_lock(ledger_url), 60, "the run to wait on the lock")
        started = psutil.Process(process.pid).children(recursive=True)
        sessions = {os.getsid(p.pid) for p in started} - {os.getsid(process.pid)}
        assert any("multiprocessing" in " ".join(p.cmdline()) for p in started), "no run worker among the children"
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
        blocker.close()
        log.close()
    output = (tmp_path / "start.log").read_text()
    assert code == 0, output[-3000:]
    # A zombie has ended: it waits only for its parent (PID 1, for an orphan) to collect its status.
    assert [p.pid for p in started if running(p)] == []
    assert [p.pid for p in psutil.process_iter() if _sid(p.pid) in sessions and running(p)] == []
    assert [pid for pid in project_processes() - before - {os.getpid()} if running(psutil.Process(pid))] == []
    status, error = reconciliation_of(ledger_url, run_id)
    assert status == "error" and error.startswith("interrupted"), (error, output[-3000:])
    # Quiet: the stop sequence, and no process reporting another's stop as a crash.
    assert "Traceback" not in output and "return code -9" not in output, output[-3000:]
    assert "stopping the webserver" in output and output.index("stopping the webserver") < output.index(
        "stopping the daemon") < output.index("stopping the run workers") < output.index("stopping the code servers")


def running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _sid(pid: int):
    try:
        return os.getsid(pid)
    except ProcessLookupError:
        return None
