"""The one place that reads configuration from the environment."""

import datetime as dt
import math
import os
import zoneinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path

import psycopg.conninfo

from .errors import LedgerError

PROJECT_DIR = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_DIR / "sql"

DATABASE_URL_VAR = "LEDGER_DATABASE_URL"
EMBEDDED_DIR_VAR = "LEDGER_EMBEDDED_DIR"
LEDGER_DATABASE = "ledger"
DAGSTER_DATABASE = "dagster"  # Dagster's runs, events and schedules, beside the ledger
TIMEZONE_VAR = "LEDGER_TIMEZONE"  # schedules run in it; daily partitions are its days
PARTITIONS_START_VAR = "LEDGER_PARTITIONS_START"  # the first day of the daily partitions
ALERT_URLS_VAR = "LEDGER_ALERT_URLS"  # apprise URLs, space separated; none: alerts are logged
REPORTING_CURRENCY_VAR = "LEDGER_REPORTING_CURRENCY"  # the trial balance's and the rates check's
FX_TOLERANCE_VAR = "LEDGER_FX_RATE_TOLERANCE"  # how far a conversion's rate may stray from the day's
REDIS_URL_VAR = "LEDGER_REDIS_URL"  # the hot-balance cache; none: no cache
REPORTS_DIR_VAR = "LEDGER_REPORTS_DIR"  # where the tax report's Parquet and CSV files go
AUDIT_ANCHOR_FILE_VAR = "LEDGER_AUDIT_ANCHOR_FILE"  # an append-only file of seal hashes; none: Dagster only
AUDIT_ARCHIVE_DIR_VAR = "LEDGER_AUDIT_ARCHIVE_DIR"  # where archived audit months go
AUDIT_RETENTION_VAR = "LEDGER_AUDIT_RETENTION_MONTHS"  # months kept in the database before archiving
AUDIT_VERIFY_DAYS_VAR = "LEDGER_AUDIT_VERIFY_DAYS"  # nightly runs in which every sealed block is re-hashed
REPLICA_URL_VAR = "LEDGER_REPLICA_URL"  # a streaming replica the checks read from; none: the primary
REPLICA_MAX_LAG_VAR = "LEDGER_REPLICA_MAX_LAG_SECONDS"  # further behind than this, a run ends 'error'
EXECUTOR_VAR = "LEDGER_EXECUTOR"  # how a fanned-out backfill runs its chunks: 'multiprocess' or 'celery'
CELERY_BROKER_VAR = "LEDGER_CELERY_BROKER"  # the Celery profile's broker
CELERY_QUEUE_VAR = "LEDGER_CELERY_QUEUE"  # the Celery queue the chunks go to, which workers listen on
EXECUTORS = ("multiprocess", "celery")
ALERT_RETRY_VAR = "LEDGER_ALERT_RETRY_SECONDS"  # the first retry of an undelivered alert; it doubles each time
STATEMENTS_INBOX_VAR = "LEDGER_STATEMENTS_INBOX"  # bank statement files to import; done/ and rejected/ beside
MATCHING_RULES_VAR = "LEDGER_MATCHING_RULES"  # a TOML file of statement matching rules; none: the defaults
MATCH_GRACE_VAR = "LEDGER_MATCH_GRACE_DAYS"  # a ledger entry younger than this is not yet expected at the bank


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


def configured_database_url() -> str | None:
    """LEDGER_DATABASE_URL, or None: the embedded server (db.database_url)."""
    url = os.environ.get(DATABASE_URL_VAR, "").strip()
    return validate_database_url(url) if url else None


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


def reporting_currency_code() -> str:
    """As given: ledger.currencies.reporting_currency checks it against the ISO list."""
    return os.environ.get(REPORTING_CURRENCY_VAR, "").strip().upper() or "USD"


def reporting_currency_configured() -> bool:
    """Whether LEDGER_REPORTING_CURRENCY is set: only then does the ledger report in one currency."""
    return bool(os.environ.get(REPORTING_CURRENCY_VAR, "").strip())


def fx_rate_tolerance() -> Decimal:
    text = os.environ.get(FX_TOLERANCE_VAR, "").strip() or "0.005"
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or not 0 <= value < 1:
        raise LedgerError(f"{FX_TOLERANCE_VAR} must be a fraction like 0.005 (0.5%), got {text!r}")
    return value


def redis_url() -> str | None:
    return os.environ.get(REDIS_URL_VAR, "").strip() or None


def reports_dir() -> Path:
    return Path(os.environ.get(REPORTS_DIR_VAR, "").strip() or PROJECT_DIR / ".ledger-reports")
def audit_anchor_file() -> Path | None:
    text = os.environ.get(AUDIT_ANCHOR_FILE_VAR, "").strip()
    return Path(text) if text else None


def audit_archive_dir() -> Path:
    return Path(os.environ.get(AUDIT_ARCHIVE_DIR_VAR, "").strip() or PROJECT_DIR / ".audit-archive")


def audit_retention_months() -> int:
    text = os.environ.get(AUDIT_RETENTION_VAR, "").strip() or "12"
    if not text.isdigit():
        raise LedgerError(f"{AUDIT_RETENTION_VAR} must be a whole number of months, got {text!r}")
    return int(text)


def audit_verify_days() -> int:
    text = os.environ.get(AUDIT_VERIFY_DAYS_VAR, "").strip() or "7"
    if not text.isdigit() or int(text) < 1:
        raise LedgerError(f"{AUDIT_VERIFY_DAYS_VAR} must be a whole number of days, 1 or more, got {text!r}")
    return int(text)


def replica_url() -> str | None:
    url = os.environ.get(REPLICA_URL_VAR, "").strip()
    return validate_database_url(url, REPLICA_URL_VAR) if url else None


def replica_max_lag_seconds() -> float:
    return _seconds(REPLICA_MAX_LAG_VAR, "300")


def executor() -> str:
    name = os.environ.get(EXECUTOR_VAR, "").strip() or "multiprocess"
    if name not in EXECUTORS:
        raise LedgerError(f"{EXECUTOR_VAR} must be one of {', '.join(EXECUTORS)}, got {name!r}")
    return name


def celery_broker() -> str:
    return os.environ.get(CELERY_BROKER_VAR, "").strip() or "pyamqp://guest@127.0.0.1:5672//"


def celery_queue() -> str:
    return os.environ.get(CELERY_QUEUE_VAR, "").strip() or "ledger_backfill"
def alert_retry_seconds() -> float:
    return _seconds(ALERT_RETRY_VAR, "30")


def _seconds(var: str, default: str) -> float:
    text = os.environ.get(var, "").strip() or default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:
        raise LedgerError(f"{var} must be a number of seconds, 0 or more, got {text!r}")
    return value


def statements_inbox() -> Path:
    return Path(os.environ.get(STATEMENTS_INBOX_VAR, "").strip() or PROJECT_DIR / ".ledger-statements" / "inbox")


def matching_rules_file() -> Path | None:
    text = os.environ.get(MATCHING_RULES_VAR, "").strip()
    return Path(text) if text else None


def match_grace_days() -> int:
    text = os.environ.get(MATCH_GRACE_VAR, "").strip() or "3"
    if not text.isdigit():
        raise LedgerError(f"{MATCH_GRACE_VAR} must be a whole number of days, got {text!r}")
    return int(text)
