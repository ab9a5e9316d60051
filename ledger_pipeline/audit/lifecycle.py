"""The audit log's monthly lifecycle (migration 010): partitions created ahead of time, their
sizes, and the opt-in archive of old months to files and their restore.

Archive and restore change tables, so they run as the login that owns audit_log (the one that
applies migrations), not as ledger_system. Neither holds a lock that blocks posting for longer
than a DETACH: a month is exported and verified first, then detached and dropped in a short
transaction that checks nothing arrived in it meanwhile.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from . import archives, verification

PARTITIONS_AHEAD = 3  # months beyond the current one
LOCK_TIMEOUT = "10s"  # a DETACH waiting behind a long transaction would queue every insert behind it


@dataclass(frozen=True)
class Partition:
    name: str
    month: str | None  # YYYY-MM; None for the default partition
    rows: int
    bytes: int


def parse_month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise LedgerError(f"expected a month like 2026-01, got {text!r}") from None


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(month.year, month.month, 1)
    return start, dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"audit_log_{month:%Y_%m}"


def ensure_partitions(db: LedgerDatabase, months_ahead: int = PARTITIONS_AHEAD) -> list[str]:
    """Creates the current month's partition and the next ``months_ahead`` months' if absent."""
    with db.system_context() as conn:
        return [name for (name,) in conn.execute("SELECT audit_ensure_partitions(%s)", (months_ahead,))]


def partitions(db: LedgerDatabase) -> list[Partition]:
    """Every partition of audit_log with its exact row count and its size on disk."""
    with db.system_context() as conn:
        rows = conn.execute(
            "SELECT c.relname, CASE WHEN c.relname ~ '^audit_log_[0-9]{4}_[0-9]{2}$'"
            "                  THEN to_char(to_date(right(c.relname, 7), 'YYYY_MM'), 'YYYY-MM') END,"
            "       coalesce(n.count, 0), pg_total_relation_size(c.oid)"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " LEFT JOIN (SELECT tableoid, count(*) FROM audit_log GROUP BY tableoid) n ON n.tableoid = c.oid"
            " WHERE i.inhparent = 'public.audit_log'::regclass ORDER BY 2 NULLS LAST"
        ).fetchall()
    return [Partition(*row) for row in rows]


def archivable(db: LedgerDatabase, before: dt.date | None, retention_months: int) -> list[dt.date]:
    """The months with a partition that are before ``before`` (None: any) and older than the retention."""
    today = dt.datetime.now(dt.timezone.utc).date()
    months = today.year * 12 + today.month - 1 - retention_months
    cutoff = min(filter(None, [before, dt.date(months // 12, months % 12 + 1, 1)]))
    return [parse_month(p.month) for p in partitions(db) if p.month and parse_month(p.month) < cutoff]


def archive(db: LedgerDatabase, month: dt.date, directory: Path) -> archives.Manifest:
    """Exports a sealed month to Parquet with its manifest, reads the file back and verifies it
    against the chain, and only then detaches and drops its partition."""
    name, label = partition_name(month), f"{month:%Y-%m}"
    start, end = month_bounds(month)
    table = sql.Identifier(name)
    with db.connect() as conn:
        unsealed = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE txid >= (SELECT coalesce(max(to_txid), 0) FROM audit_seals)").format(table)
        ).fetchone()[0]
        if unsealed:
            raise LedgerError(f"{label} has {unsealed} audit rows not sealed yet: run `ledger-pipeline audit seal` first")
        seals = [{"seal_no": n, "hash": h} for n, h in conn.execute(
            "SELECT seal_no, hash FROM audit_seals WHERE first_created_at < %s AND last_created_at >= %s ORDER BY seal_no",
            (end, start))]
        manifest = archives.export(conn, name, label, directory, seals)
        conn.commit()

        with conn.transaction():
            verification.prepare(conn, [], directory, stand_in=(label, start, end))
            broken = verification.broken_seals(conn)
        if broken:
            raise LedgerError(f"the archive of {label} does not verify against the chain, so {name} stays: "
                              + "; ".join(b["subject"] + ": " + ", ".join(b["problems"]) for b in broken))

        with conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            conn.execute(sql.SQL("ALTER TABLE audit_log DETACH PARTITION {}").format(table))
            rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]
            if rows != manifest.rows:  # rolls the detach back
                raise LedgerError(f"{rows - manifest.rows} audit rows arrived in {label} while it was archived; try again")
            conn.execute("INSERT INTO audit_archives (month, file, sha256, row_count) VALUES (%s, %s, %s, %s)",
                         (month, manifest.file, manifest.sha256, manifest.rows))
            conn.execute(sql.SQL("DROP TABLE {}").format(table))
    return manifest


def restore(db: LedgerDatabase, month: dt.date, directory: Path) -> archives.Manifest:
    """Loads an archived month back from its file into a new partition, attaches it and verifies
    the chain over it; any failure leaves everything as it was."""
    name, label = partition_name(month), f"{month:%Y-%m}"
    start, end = month_bounds(month)
    table = sql.Identifier(name)
    with db.connect() as conn, conn.transaction():
        if not conn.execute("SELECT 1 FROM audit_archives WHERE month = %s", (month,)).fetchone():
            raise LedgerError(f"{label} is not archived")
        # Built beside the log and attached when full: ATTACH does not block posting as CREATE
        # TABLE ... PARTITION OF would for the whole load.
        conn.execute(sql.SQL("CREATE TABLE {} (LIKE audit_log INCLUDING DEFAULTS, CONSTRAINT {} CHECK"
                             " (created_at >= {} AND created_at < {}))").format(
            table, sql.Identifier(f"{name}_bounds"), sql.Literal(start), sql.Literal(end)))
        manifest = archives.load(conn, directory, label, into=name)
        conn.execute(sql.SQL("CREATE TRIGGER prevent_audit_truncate BEFORE TRUNCATE ON {}"
                             " FOR EACH STATEMENT EXECUTE FUNCTION prevent_audit_modification()").format(table))
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        try:
            with conn.transaction():
                conn.execute(sql.SQL("ALTER TABLE audit_log ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
                    table, sql.Literal(start), sql.Literal(end)))
        except psycopg.errors.CheckViolation:
            raise LedgerError(f"rows of {label} arrived in audit_log_default after it was archived;"
                              " move them before restoring") from None
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table, sql.Identifier(f"{name}_bounds")))
        conn.execute("DELETE FROM audit_archives WHERE month = %s", (month,))
        verification.prepare(conn, [], directory)
        broken = verification.broken_seals(conn)
        if broken:
            raise LedgerError(f"{label} restored does not verify against the chain, so it stays archived: "
                              + "; ".join(b["subject"] + ": " + ", ".join(b["problems"]) for b in broken))
    return manifest
