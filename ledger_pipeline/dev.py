"""`ledger-pipeline start`: the whole pipeline on this machine, in the foreground.

Embedded PostgreSQL (unless LEDGER_DATABASE_URL is set), migrations, demo data for an empty
ledger, then `dagster dev` (webserver and daemon) on localhost. Ctrl-C stops all of it; the
embedded server stops when this process exits.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import settings
from .db import create_database

DAGSTER_HOME = settings.PROJECT_DIR / ".dagster"
DAGSTER = str(Path(sys.executable).parent / "dagster")
WORKSPACE = settings.PROJECT_DIR / "workspace.yaml"


def dagster_url(ledger_url: str) -> str:
    """Dagster's own database on the ledger's server, as dagster-postgres connects (psycopg2)."""
    parts = urlsplit(ledger_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    create_database(admin, settings.DAGSTER_DATABASE)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg2", path=f"/{settings.DAGSTER_DATABASE}"))


def dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or DAGSTER_HOME)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.symlink_to(settings.PROJECT_DIR / "dagster.yaml")
    return home


def dagster_env(ledger_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env[settings.DATABASE_URL_VAR] = ledger_url  # the children use this server; they start none
    if not env.get("DAGSTER_PG_URL"):
        env["DAGSTER_PG_URL"] = dagster_url(ledger_url)
    env["DAGSTER_HOME"] = str(dagster_home())
    return env


def dagster_command(ledger_url: str, args: list[str]) -> int:
    """Any `dagster` command against this pipeline's instance (schedules, job launch...)."""
    return subprocess.run([DAGSTER, *args], env=dagster_env(ledger_url)).returncode


def run_dagster(ledger_url: str, host: str, port: int) -> int:
    env = dagster_env(ledger_url)
    command = [DAGSTER, "dev", "-h", host, "-p", str(port), "-w", str(WORKSPACE)]

    def restore_signals():
        # A shell may have started us with SIGINT ignored (a background job); dagster dev must
        # still stop on it.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    process = subprocess.Popen(command, env=env, cwd=env["DAGSTER_HOME"], preexec_fn=restore_signals,
                               start_new_session=True)
    print(f"Dagster UI: http://{host}:{port}  (Ctrl-C stops the pipeline)", flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Installed explicitly: started as a background job, this process inherits SIGINT ignored.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        return process.wait()
    except KeyboardInterrupt:
        print("stopping Dagster...", flush=True)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
