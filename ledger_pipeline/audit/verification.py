"""What the audit checks read, set up in the checking transaction: the anchors (audit_anchors)
and the audit rows (audit_rows: the live log plus every archived month read back from its file),
as temporary relations that end with the transaction."""

import datetime as dt
from pathlib import Path

import psycopg

from ..platform.sql_files import render
from . import archives
from .anchors import Anchor

NOTHING = (dt.datetime(1, 1, 1), dt.datetime(1, 1, 1))  # an empty range of created_at


def prepare(conn: psycopg.Connection, anchors: list[Anchor], directory: Path,
            stand_in: tuple[str, dt.datetime, dt.datetime] | None = None) -> None:
    """``stand_in``: (month, start, end) of a month still in the log whose file is read instead
    of its rows (the archive step verifies a file before it detaches the partition)."""
    conn.execute("CREATE TEMP TABLE audit_anchors (seal_no bigint, hash text, row_count bigint, source text)"
                 " ON COMMIT DROP")
    with conn.cursor().copy("COPY audit_anchors FROM STDIN") as copy:
        for a in anchors:
            copy.write_row((a.seal_no, a.hash, a.row_count, a.source))
    conn.execute("CREATE TEMP TABLE audit_archived (LIKE audit_log) ON COMMIT DROP")
    months = [m for (m,) in conn.execute("SELECT to_char(month, 'YYYY-MM') FROM audit_archives ORDER BY month")]
    if stand_in:
        months.append(stand_in[0])
    for month in months:
        archives.load(conn, directory, month)
    conn.execute("ANALYZE audit_archived")
    start, end = stand_in[1:] if stand_in else NOTHING
    conn.execute(render("audit/rows", exclude_start=start, exclude_end=end))


def broken_seals(conn: psycopg.Connection) -> list[dict]:
    """The audit_log_intact findings, outside a reconciliation (archive and restore)."""
    return [details for (details,) in conn.execute(
        psycopg.sql.SQL("SELECT details FROM ({}) AS c").format(render("checks/audit/audit_log_intact", run_id=None)))]
