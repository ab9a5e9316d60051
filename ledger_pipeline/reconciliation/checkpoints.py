"""Verified checkpoints: per account and entry currency, the totals of every entry that arrived
below a watermark, so a run reads the checkpoint plus what arrived since instead of every entry.

Arrival is the inserting transaction's id (entries.arrival_xid). The watermark is the xmin of the
snapshot a run read in: every transaction below it had ended by then, committed or rolled back,
so no entry below the watermark can still appear, while entries at or above it (committed after
transactions that were still open, in any order) are read again by the next run. Sequence
numbers could not give that guarantee: they are taken before commit, so a lower one can become
visible after a higher one.
"""

from dataclasses import dataclass

import psycopg

from ..platform.sql_files import render
from .reading import Reader

NO_CHECKPOINT = "0"  # every entry arrived at or after xid 0
TOTALS = render("checkpoints/entry_totals")  # the columns both ways of reading the totals group entries into


@dataclass(frozen=True)
class Horizon:
    """What a run reads: its snapshot, the checkpoint it starts from, the watermark it can settle."""

    snapshot: str  # pg_snapshot, as text
    previous: str | None  # the checkpoint's watermark; None: the run reads every entry
    watermark: str  # the snapshot's xmin


def read_totals(reader: Reader, from_scratch: bool) -> Horizon:
    """Builds the temporary table run_totals (per account and entry currency: the totals the checks
    judge, and the settled part that becomes the next checkpoint). ``reader`` reads in one
    REPEATABLE READ snapshot, so the snapshot, the checkpoint and the entries agree. On a replica,
    the snapshot holds only what it has replayed, so the watermark never passes the replayed point."""
    snapshot, watermark = reader.execute(
        "SELECT pg_current_snapshot()::text, pg_snapshot_xmin(pg_current_snapshot())::text"
    ).fetchone()
    row = reader.execute("SELECT arrival_xid::text FROM reconciliation_watermark").fetchone()
    previous = None if from_scratch else (row[0] if row else NO_CHECKPOINT)
    if previous is None:
        reader.materialize("run_totals", render("checkpoints/totals_from_entries", totals=TOTALS, watermark=watermark))
    else:
        # xmin never goes back; were it ever to, entries below the checkpoint's own watermark would
        # be counted twice.
        watermark = str(max(int(watermark), int(previous)))
        reader.materialize("run_totals", render("checkpoints/totals_from_checkpoint", totals=TOTALS,
                                                previous=previous, watermark=watermark))
    return Horizon(snapshot, previous, watermark)


def last_full_run(reader: Reader) -> tuple[str | None, str]:
    """The latest completed full run's id and watermark ((None, '0') if there is none): every
    transaction whose entries all arrived below the watermark was judged by that run."""
    row = reader.execute(
        "SELECT id::text, pg_snapshot_xmin(snapshot)::text FROM reconciliation_runs"
        " WHERE period_start IS NULL AND run_type <> 'hourly' AND status IN ('passed', 'failed')"
        "   AND snapshot IS NOT NULL AND summary -> 'checks' ? 'transactions_balanced'"
        " ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else (None, NO_CHECKPOINT)


def save(conn: psycopg.Connection, horizon: Horizon, run_id) -> None:
    """Moves the checkpoint to the run's watermark, in the run's transaction; leaves it alone when
    another run moved it since this one's snapshot (the run's findings still stand, and the next
    run reads the arrivals again)."""
    try:
        with conn.transaction():  # a savepoint: losing the race must not abort the run
            if horizon.previous is None:
                conn.execute(
                    "INSERT INTO reconciliation_watermark (arrival_xid, established_by, extended_by)"
                    " VALUES (%(xid)s, %(run)s, %(run)s) ON CONFLICT (singleton) DO UPDATE"
                    " SET arrival_xid = excluded.arrival_xid, established_by = excluded.established_by,"
                    "     extended_by = excluded.extended_by, updated_at = now()",
                    {"xid": horizon.watermark, "run": run_id},
                )
                conn.execute(
                    "DELETE FROM reconciliation_checkpoints c WHERE NOT EXISTS (SELECT FROM run_totals t"
                    " WHERE t.account_id = c.account_id AND t.currency = c.currency AND t.settled_entries > 0)"
                )
            else:
                moved = conn.execute(
                    "UPDATE reconciliation_watermark SET arrival_xid = %s, extended_by = %s, updated_at = now()"
                    " WHERE arrival_xid = %s",
                    (horizon.watermark, run_id, horizon.previous),
                ).rowcount
                if not moved:
                    conn.execute(
                        "INSERT INTO reconciliation_watermark (arrival_xid, established_by, extended_by)"
                        " VALUES (%s, %s, %s)",
                        (horizon.watermark, run_id, run_id),
                    )
            conn.execute(render("checkpoints/save"))
    except (psycopg.errors.SerializationFailure, psycopg.errors.UniqueViolation):
        pass
