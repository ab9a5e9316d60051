"""A batch's findings, computed in one snapshot and written straight into reconciliation_items
(INSERT ... SELECT, or COPY from a replica: no row is held in Python, however many there are).

A batch is one whole-ledger run, or one or more period runs (the days of a backfill), which
share a single pass over the entries by value date.
"""

import uuid
from collections.abc import Sequence

from psycopg import sql

from . import checkpoints
from .checks import Scope, render
from .reading import Reader, insert_items

# The one check that reads the entries themselves (grouped by transaction), so it runs where the
# run reads; the others read the run's tables of totals and the accounts.
READS_ENTRIES = "transactions_balanced"


def write(reader: Reader, runs: Sequence[tuple[uuid.UUID, Scope]], previous: str | None
          ) -> dict[uuid.UUID, tuple[int, int]]:
    """Writes every check's rows for each run, reading the run_totals table built for the batch;
    returns each run's (accounts checked, transactions checked)."""
    checks = runs[0][1].checks
    reader.mirror("accounts")
    if not runs[0][1].is_period:
        [(run_id, scope)] = runs
        for name in checks:
            _write(reader, name, render(f"checks/ledger/{name}", run_id=run_id))
        counted = {"full": scope.from_scratch, "previous": previous or checkpoints.NO_CHECKPOINT}
        accounts = reader.run.execute(render("checks/ledger/accounts_checked", **counted)).fetchone()[0]
        transactions = reader.execute(render("checks/ledger/transactions_checked", **counted)).fetchone()[0]
        return {run_id: (accounts, transactions)}

    bounds = sorted({bound for _, s in runs for bound in (s.period_start, s.period_end)})
    # width_bucket numbers buckets from 1 at the first bound; a gap between periods is a bucket too.
    bucket_of = {run_id: bounds.index(scope.period_start) + 1 for run_id, scope in runs}
    bucket_runs: list[uuid.UUID | None] = [None] * (len(bounds) - 1)
    for run_id, bucket in bucket_of.items():
        bucket_runs[bucket - 1] = run_id
    full_run, full_watermark = checkpoints.last_full_run(reader)
    placed = {"bounds": bounds, "range_start": bounds[0], "range_end": bounds[-1], "bucket_runs": bucket_runs,
              "full_run": full_run, "full_watermark": full_watermark}
    reader.run.execute("CREATE TEMP TABLE run_windows (run_id uuid, bucket int, period_start timestamptz,"
                       " period_end timestamptz) ON COMMIT DROP")
    with reader.run.cursor().copy("COPY run_windows FROM STDIN") as copy:
        for run_id, scope in runs:
            copy.write_row((run_id, bucket_of[run_id], scope.period_start, scope.period_end))
    reader.run.execute("ANALYZE run_windows")
    reader.materialize("run_period_totals", render("checks/periods/period_totals", **placed))
    for name in checks:
        _write(reader, name, render(f"checks/periods/{name}", **placed))
    transactions = dict(reader.execute(render("checks/periods/transactions_checked", **placed)).fetchall())
    return {run_id: (accounts, transactions.get(bucket_of[run_id], 0))
            for run_id, accounts in reader.run.execute(render("checks/periods/accounts_checked", **placed))}


def _write(reader: Reader, check: str, query: sql.Composable) -> None:
    if check == READS_ENTRIES:
        reader.insert_items(check, query)
    else:
        insert_items(reader.run, check, query)
