"""The one place that reads configuration from the environment."""

import os
from pathlib import Path

import psycopg.conninfo

from .errors import LedgerError

PROJECT_DIR = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_DIR / "sql"

DATABASE_URL_VAR = "LEDGER_DATABASE_URL"
EMBEDDED_DIR_VAR = "LEDGER_EMBEDDED_DIR"
LEDGER_DATABASE = "ledger"


def embedded_dir() -> Path:
    """Where the embedded server keeps its data (git ignores the default)."""
    return Path(os.environ.get(EMBEDDED_DIR_VAR) or PROJECT_DIR / ".ledger-pg")


def validate_database_url(url: str, source: str = DATABASE_URL_VAR) -> str:
    if not url.startswith(("postgresql://", "postgres://")):
        raise LedgerError(f"{source} must be a postgresql:// URL, got {redact(url)!r}")
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise LedgerError(f"{source} is not a valid PostgreSQL URL ({redact(url)}): {exc}") from None
    return url


def database_url() -> str:
    """The ledger database: LEDGER_DATABASE_URL, or else a database on the embedded server."""
    url = os.environ.get(DATABASE_URL_VAR, "").strip()
    if url:
        return validate_database_url(url)
    from . import embedded

    return embedded.database_url(LEDGER_DATABASE)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return url.split("@")[-1]
    params.pop("password", None)
    host = params.get("host", "")
    where = f"{host}:{params['port']}" if "port" in params else host
    return f"{params.get('user', '')}@{where or 'localhost'}/{params.get('dbname', '')}"
