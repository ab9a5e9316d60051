"""Direct connections to a PostgreSQL server, and creating a database on it."""

import psycopg
from psycopg import sql

from . import settings
from .errors import LedgerError


def connect(url: str, **kwargs) -> psycopg.Connection:
    """A direct connection, with an unreachable server reported as one readable line."""
    try:
        return psycopg.connect(url, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LedgerError(f"cannot connect to the ledger database {settings.redact(url)}: {reason}") from None


def create_database(admin_url: str, name: str) -> None:
    with connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            pass  # another process created it first
