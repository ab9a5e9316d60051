"""The one place that reads configuration from the environment."""

import datetime as dt
import os
import zoneinfo
from pathlib import Path

import psycopg.conninfo

from .errors import LedgerError

PROJECT_DIR = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_DIR / "sql"

DATABASE_URL_VAR = "LEDGER_DATABASE_URL"
EMBEDDED_DIR_VAR = "LEDGER_EMBEDDED_DIR"
LEDGER_DATABASE = "ledger"
DAGSTER_DATABASE = "dagster"  # Dagster's runs, events and schedules, beside the ledger
TIMEZONE_VAR = "LEDGER_TIMEZONE"  # schedules run in it; daily partitions are its days
PARTITIONS_START_VAR = "LEDGER_PARTITIONS_START"  # the first day of the daily partitions
ALERT_URLS_VAR = "LEDGER_ALERT_URLS"  # apprise URLs, space separated; none: alerts are logged
ALERT_RETRY_VAR = "LEDGER_ALERT_RETRY_SECONDS"  # the first retry of an undelivered alert; it doubles each time


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


def timezone() -> str:
    name = os.environ.get(TIMEZONE_VAR, "").strip() or "UTC"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise LedgerError(f"{TIMEZONE_VAR} is not a known time zone: {name!r} (e.g. UTC, Europe/Berlin)") from None
    return name


def partitions_start() -> str:
    text = os.environ.get(PARTITIONS_START_VAR, "").strip() or "2026-01-01"
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise LedgerError(f"{PARTITIONS_START_VAR} must be a date like 2026-01-01, got {text!r}") from None
    return text


def alert_urls() -> list[str]:
    return os.environ.get(ALERT_URLS_VAR, "").split()


def alert_retry_seconds() -> float:
    text = os.environ.get(ALERT_RETRY_VAR, "").strip() or "30"
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value < 0:
        raise LedgerError(f"{ALERT_RETRY_VAR} must be a number of seconds, 0 or more, got {text!r}")
    return value
