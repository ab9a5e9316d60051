"""`ledger-pipeline start`: the whole pipeline on this machine, in the foreground.

Embedded PostgreSQL (unless LEDGER_DATABASE_URL is set), migrations, demo data for an empty
ledger, then `dg dev` (webserver and daemon) on localhost. Ctrl-C or SIGTERM stops all of it in order
(supervisor.py), closes any reconciliation left running as 'error', and the embedded server stops
when this process exits, last.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import settings
from .connections import create_database
from .supervisor import Supervisor

DAGSTER_HOME = settings.PROJECT_DIR / ".dagster"
DAGSTER = str(Path(sys.executable).parent / "dagster")
DG = str(Path(sys.executable).parent / "dg")
WORKSPACE = settings.PROJECT_DIR / "workspace.yaml"
INSTANCE_CONFIG = settings.PROJECT_DIR / "deploy" / "local" / "dagster.yaml"
# `dg dev`'s code server (`dagster code-server start`) runs the definitions in a child (`dagster api
# grpc`) that shuts itself down once it has gone 30 s (Dagster's default) without its parent's
# heartbeat, and nothing starts it again: the location stays in error, and every run dequeued
# meanwhile fails at its start, with no step run and no retry ("Tried to start a run on a server
# after telling it to shut down", then "Failed to retry run"). A child starved of the CPU on a
# loaded machine, or frozen in a test, does it (tests/test_crashed_runs.py). The heartbeat is
# there to end an orphaned child; the supervisor already stops every process of the session, and
# a code server that stops cleanly stops its child, so only a child whose parent was killed
# outright lingers, for at most the hour.
CODE_SERVER_HEARTBEAT_TTL_SECONDS = 3600


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
    # A link is ours to renew (an older checkout linked dagster.yaml at the root); a file is the user's.
    if config.is_symlink() or not config.exists():
        config.unlink(missing_ok=True)
        config.symlink_to(INSTANCE_CONFIG)
    return home


def dagster_env(ledger_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env[settings.DATABASE_URL_VAR] = ledger_url  # the children use this server; they start none
    if not env.get("DAGSTER_PG_URL"):
        env["DAGSTER_PG_URL"] = dagster_url(ledger_url)
    env["DAGSTER_HOME"] = str(dagster_home())
    env.setdefault("DAGSTER_GRPC_PROXY_HEARTBEAT_TTL_SECONDS", str(CODE_SERVER_HEARTBEAT_TTL_SECONDS))
    return env


def dagster_command(ledger_url: str, args: list[str]) -> int:
    """Any `dagster` command against this pipeline's instance (schedules, job launch...)."""
    return subprocess.run([DAGSTER, *args], env=dagster_env(ledger_url)).returncode


def run_dagster(ledger_url: str, host: str, port: int, after_start: Callable[[], None],
                after_stop: Callable[[], None]) -> int:
    """Runs `dg dev` until Ctrl-C or SIGTERM (or until it ends by itself), calling ``after_start``
    once it is started, then stops every process it started (supervisor.py) and calls
    ``after_stop``, while the database is still up."""
    env = dagster_env(ledger_url)
    # workspace.yaml, which the Helm chart and other tools read too, names the code location.
    supervisor = Supervisor([DG, "dev", "-h", host, "-p", str(port), "-w", str(WORKSPACE)], env,
                            cwd=env["DAGSTER_HOME"], say=lambda line: print(line, flush=True))

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Installed explicitly: started as a background job, this process inherits SIGINT ignored.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        supervisor.start()
        print(f"Dagster UI: http://{host}:{port}  (Ctrl-C stops the pipeline)", flush=True)
        after_start()
        code = supervisor.process.wait()
        print(f"dg dev ended by itself (exit code {code})", flush=True)
    except KeyboardInterrupt:
        print("stopping Dagster...", flush=True)
    finally:
        # A second Ctrl-C must not cut the shutdown short: the stages escalate to SIGKILL anyway.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if supervisor.process is not None:
            supervisor.stop()
        after_stop()
    return code
