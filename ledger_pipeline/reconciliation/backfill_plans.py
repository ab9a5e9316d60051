"""A fanned-out backfill's plan (migration 015, sql/backfill/tails.sql): what each account's entries
moved after each chunk's end, read in one pass before the chunks start.

A period run takes balances back to its days' ends by what moved after them. A chunk that read
that itself would read every entry from its first day on, so N chunks would read the ledger about
N/2 times; with the plan, the ledger is read about twice whatever N is: once by the plan, once by
the chunks, each its own days and the plan's row per account. The plan counts the entries
that arrived below its watermark; a chunk adds those that arrived since, so a posting made while
the backfill runs is not missed.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Optional

from psycopg import sql

from ..platform.db import LedgerDatabase
from ..platform.sql_files import render
from . import checkpoints
from .reading import Reader
from .sight import check_sight

# A retry of a failed backfill reuses its plan. One this old belongs to a backfill no one is
# going to retry; dropping it is safe regardless, since a chunk without its plan reads the entries.
KEPT_FOR = dt.timedelta(days=7)


def make(db: LedgerDatabase, chunk_ends: Sequence[dt.datetime], dagster_run_id: Optional[str] = None) -> uuid.UUID:
    """Writes the plan for chunks ending at ``chunk_ends``; reads where reconciliations read (a
    replica, when one is configured), writes on the primary."""
    ends = sorted(set(chunk_ends))
    source = db.replica()
    with db.system_context() as conn, \
            (source.system_context(repeatable_read=True) if source else nullcontext()) as on_replica:
        reader = Reader(conn, on_replica)
        check_sight(reader.source)  # a tail with rows missing would move the chunks' balances
        watermark = reader.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").fetchone()[0]
        conn.execute("DELETE FROM backfill_plans WHERE created_at < now() - %s", (KEPT_FOR,))
        plan_id = conn.execute("INSERT INTO backfill_plans (dagster_run_id, chunk_ends, watermark)"
                               " VALUES (%s, %s, %s) RETURNING id", (dagster_run_id, ends, watermark)).fetchone()[0]
        reader.insert(sql.Identifier("backfill_tails"),
                      render("backfill/tails", plan_id=plan_id, ends=ends, first_end=ends[0], watermark=watermark))
    return plan_id


def tail(reader: Reader, plan_id: Optional[uuid.UUID], range_end: dt.datetime) -> dict:
    """period_totals.sql's placeholders for where a run's tail, what moved from ``range_end`` on,
    comes from: the plan, when it holds tails from that end and the run's snapshot holds the plan
    and every entry it counted (a replica may not have replayed it yet); otherwise the entries
    from that end on, all of them."""
    if plan_id is not None:
        row = reader.execute(sql.SQL(
            "SELECT watermark::text, array_position(chunk_ends, {end}) FROM backfill_plans"
            " WHERE id = {plan} AND {end} = ANY(chunk_ends) AND pg_snapshot_xmin(pg_current_snapshot()) >= watermark"
        ).format(plan=sql.Literal(plan_id), end=sql.Literal(range_end))).fetchone()
        if row:
            return {"plan_id": plan_id, "tail_watermark": row[0], "tail_index": row[1]}
    return {"plan_id": None, "tail_watermark": checkpoints.NO_CHECKPOINT, "tail_index": 1}


def drop(db: LedgerDatabase, plan_id: uuid.UUID) -> None:
    with db.system_context() as conn:
        conn.execute("DELETE FROM backfill_plans WHERE id = %s", (plan_id,))
