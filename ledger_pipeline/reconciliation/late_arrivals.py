"""Late arrivals: entries that reached a day after its daily reconciliation had run.

A run records the snapshot it read; an entry is late for a partition when its value date is in
the partition's period and its transaction was not visible in the snapshot of the partition's
latest completed run. The search reads only entries that arrived since a watermark, so its cost
follows the arrivals.
"""

import datetime as dt
from dataclasses import dataclass

from ..platform.db import LedgerDatabase
from ..platform.sql_files import render


@dataclass(frozen=True)
class StalePartition:
    partition_key: str
    run_id: str  # the reconciliation the late entries were not seen by
    late_entries: int
    first_value_date: dt.datetime


def find_stale(db: LedgerDatabase, since: str | None) -> tuple[list[StalePartition], str]:
    """The partitions made stale by entries that arrived at or after ``since`` (None: nothing yet,
    the first look only sets the watermark, as a sensor first switched on acts on what happens from
    then on), and the watermark to pass next time: the snapshot's xmin, below which no entry can
    still arrive."""
    with db.system_context(repeatable_read=True) as conn:
        horizon = conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").fetchone()[0]
        if since is None:
            return [], horizon
        rows = conn.execute(render("late_arrivals/stale_partitions", since=since)).fetchall()
    return [StalePartition(key, str(run_id), count, first) for key, run_id, count, first in rows], horizon
