"""What the audit checks verify, and how.

The full verification (`audit verify --full`, archive, restore) reads the anchors (audit_anchors)
and the audit rows (audit_rows: the live log plus every archived month read back from its file) as
temporary relations set up in the checking transaction (prepare). The nightly verification (plan,
sql/audit/nightly) re-hashes what is new plus a rotating slice, passes everything it needs as
literals, so it can read on a replica, and records what it verified (record, migration 017)."""

import datetime as dt
import json
import random
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from ..platform.errors import LedgerError
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
    conn.execute(render("audit/rows", exclude_start=start, exclude_end=end,
                        archived=render("audit/archived_rows") if months else sql.SQL("")))


def broken_seals(conn: psycopg.Connection) -> list[dict]:
    """The audit_log_intact findings of a full verification, outside a reconciliation (archive and restore)."""
    with costed_as_hashing(conn):
        return [details for (details,) in conn.execute(
            sql.SQL("SELECT details FROM ({}) AS c").format(full_query(conn, "audit_log_intact", None)))]


# parallel_tuple_cost while the full re-hash is planned. The planner costs the digest of a row as a
# handful of operators, while printing and hashing it takes several microseconds (BENCHMARKS.md):
# at the default 0.1 a Gather passing every row's digest on looked dearer than hashing them all in
# one process, and the whole log was re-hashed without workers.
HASHING_TUPLE_COST = "0.01"


@contextmanager
def costed_as_hashing(conn: psycopg.Connection):
    """Plans the full re-hash in ``conn``'s transaction with workers in mind (HASHING_TUPLE_COST),
    then restores the setting."""
    [before] = conn.execute("SELECT current_setting('parallel_tuple_cost')").fetchone()
    conn.execute("SELECT set_config('parallel_tuple_cost', %s, true)", (HASHING_TUPLE_COST,))
    yield
    # Not in a finally: after a failed statement the transaction is aborted, the setting goes with
    # it, and resetting it would raise over the real error.
    conn.execute("SELECT set_config('parallel_tuple_cost', %s, true)", (before,))


def full_query(conn: psycopg.Connection, check: str, run_id) -> sql.Composable:
    """An audit check as the full verification makes it, over prepare()'s relations on ``conn``."""
    return render(f"checks/audit/{check}", **_full_values(_sealed(conn)), run_id=run_id)


def _sealed(conn) -> dict:
    """Where the seals begin and end, as audit_log_intact takes them: literals, so that the planner
    knows how many rows the re-hash reads (against a subquery it guessed a third of the log, and read
    it through the BRIN index, lossily, without parallel workers) and the rows' scan joins nothing
    (a join with a one-row relation kept the scan from being split among workers)."""
    starts, sealed_txid = conn.execute(sql.SQL(
        "SELECT coalesce(array_agg(from_txid ORDER BY seal_no), '{}'), coalesce(max(to_txid), 0) FROM audit_seals")
    ).fetchone()
    return {"starts": starts, "sealed_txid": sealed_txid}


# Blocks re-hashed each night besides the slice, chosen afresh by each run and kept nowhere: whoever
# edits an old block cannot know which night will read it.
RANDOM_BLOCKS = 3
# A full verification's records to compare by name: none, it compares every row.
NO_RECORDS = sql.SQL("SELECT NULL::text AS table_name, NULL::uuid AS record_id WHERE false")


def _full_values(sealed: dict, slices: int = 1) -> dict:
    """The audit checks' placeholders for a full verification, which reads prepare()'s relations."""
    placed = {**sealed, "verified_head": 0, "slices": slices, "slice": 0, "random_seals": [], "random_blocks": [],
              "archived_seals": [], "everything": True}
    return {**placed, "targets": render("audit/targets", **placed), "since": None, "archived_any": False,
            "anchors": sql.SQL("SELECT seal_no, hash, row_count, source FROM audit_anchors"),
            "rows": sql.SQL("SELECT * FROM audit_rows"), "archives": sql.SQL(""),
            **_every_record("audit_rows")}


# The tables whose rows audit_trail_complete compares with their trail.
TRAILED = ("accounts", "transactions", "entries", "bank_accounts", "statement_files", "statements", "statement_lines",
           "statement_matches", "statement_match_links")


def _per_table(name: str, joined: str = "", **values) -> sql.Composable:
    """sql/<name>.sql for each TRAILED table, joined by ``joined``."""
    return sql.SQL(joined).join(render(name, table_name=table, table=sql.Identifier(table), **{
        key: value(table) if callable(value) else value for key, value in values.items()}) for table in TRAILED)


def _ledger(only: bool) -> sql.Composable:
    """The rows audit_trail_complete compares: every row, or (``only``) those of its records."""
    return _per_table("audit/ledger_table", " UNION ALL ", only=lambda table: render(
        "audit/nightly/only_records", table_name=table) if only else sql.SQL(""))


def _every_record(audit_rows: str) -> dict:
    """audit_trail_complete's placeholders to compare every ledger row with the audit rows of ``audit_rows``."""
    return {"records": NO_RECORDS, "ledger": _ledger(only=False),
            "audited": render("audit/latest_audit_rows", audit_rows=sql.SQL("SELECT * FROM {}").format(
                sql.Identifier(audit_rows)))}


@dataclass(frozen=True)
class Plan:
    """What one run's audit checks verify: ``full`` re-hashes the whole log, archived months read
    back (the temporary relations of prepare()); nightly, new seals, the slice and every seal and
    anchor, with no temporary relation."""

    full: bool
    values: dict
    watermark: str  # the reading snapshot's xmin: the next nightly run compares the ledger from here
    head: int  # the newest seal the reading snapshot holds: the next nightly run re-hashes the seals after it
    ledger_rows: int  # the ledger records compared with their trail (nightly: at most; the slice counted by audit rows)

    def query(self, check: str, run_id) -> sql.Composable:
        values = {**self.values, "run_id": run_id}
        if not self.full:
            values["archives"] = render("audit/nightly/archived_months", archives=values["archives"], run_id=run_id)
        return render(f"checks/audit/{check}", **values)

    @property
    def reads_temporary(self) -> bool:
        """Whether the checks need the run's own session (temporary relations): not on a replica."""
        return self.full


def plan(run: psycopg.Connection, reader, anchors: list[Anchor], directory: Path, full: bool,
         slices: int) -> Plan:
    """Reads what the last intact verification left (on ``run``, the primary) and prepares this
    run's audit checks; ``reader`` is where the checks read (reconciliation.reading.Reader)."""
    watermark, head = reader.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text,"
                                     " (SELECT coalesce(max(seal_no), 0) FROM audit_seals)").fetchone()
    last = run.execute("SELECT head_seal, watermark::text FROM audit_verifications WHERE intact"
                       " ORDER BY id DESC LIMIT 1").fetchone()
    latest_slice = run.execute("SELECT slice FROM audit_verifications WHERE kind = 'nightly'"
                               " ORDER BY id DESC LIMIT 1").fetchone()
    slice_ = 0 if latest_slice is None or latest_slice[0] is None else (latest_slice[0] + 1) % slices
    if full:
        prepare(run, anchors, directory)
        values = _full_values(_sealed(run), slices)
    else:
        values = _nightly_values(run, anchors, directory, slices, slice_, last) | _sealed(reader)
    if full or last is None:
        # Every ledger row is compared.
        ledger_rows = reader.execute(sql.SQL("SELECT {}").format(sql.SQL(" + ").join(
            sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(table)) for table in TRAILED)))
        return Plan(full, values, watermark, head, ledger_rows.fetchone()[0])
    # The records that arrived or were audited since the last intact verification, and those the
    # last verification found wrong, found once, here, and passed to the check; the slice's records
    # are found by the check, counted by their audit rows.
    written = reader.execute(written_since(values["since"])).fetchall()
    written += run.execute(render("audit/nightly/open_findings")).fetchall()
    values["records"] = render("audit/nightly/trail_records", **values, written=sql.SQL("").join(
        render("audit/nightly/written", table_name=table, ids=ids) for table, ids in written))
    slice_rows = sum(row_count for _, _, row_count in run.execute(sql.SQL(
        "SELECT * FROM ({}) t WHERE seal_no <= {}").format(values["targets"], sql.Literal(values["verified_head"]))))
    return Plan(full, values, watermark, head, sum(ids.count(",") + 1 for _, ids in written) + slice_rows)


def written_since(since: int) -> sql.Composable:
    """The records that arrived or were audited at or after ``since``, a table's ids a row."""
    return render("audit/nightly/written_since", since=since, tables=_per_table("audit/nightly/written_table",
                                                                                 since=since))


def _nightly_values(run: psycopg.Connection, anchors: list[Anchor], directory: Path, slices: int, slice_: int,
                    last: tuple | None) -> dict:
    manifests, problems = _manifests(run, directory)
    blocks = run.execute("SELECT s.seal_no, b.key::bigint FROM audit_seals s, jsonb_each(s.blocks) b"
                         " WHERE s.seal_no <= %s", (last[0] if last else 0,)).fetchall()
    picked = random.SystemRandom().sample(blocks, min(RANDOM_BLOCKS, len(blocks)))
    # The verified head's last txid and seq, as literals: the new rows are then found by index.
    top_txid, top_seq = run.execute("SELECT coalesce(max(to_txid), 0), coalesce(max(last_seq), -1) FROM audit_seals"
                                    " WHERE seal_no <= %s", (last[0] if last else 0,)).fetchone()
    placed = {"verified_head": last[0] if last else 0, "slices": slices, "slice": slice_,
              "random_seals": [s for s, _ in picked], "random_blocks": [b for _, b in picked],
              "archived_seals": sorted({s["seal_no"] for m in manifests for s in m.get("seals") or []}),
              "everything": False}
    values = {**placed, "targets": render("audit/targets", **placed), "since": int(last[1]) if last else None,
              "archived_any": bool(manifests or problems)}
    values.update(
        anchors=render("audit/nightly/anchors", anchors=json.dumps(
            [{"seal_no": a.seal_no, "hash": a.hash, "row_count": a.row_count, "source": a.source} for a in anchors])),
        rows=render("audit/nightly/rows", **values, top_txid=top_txid, top_seq=top_seq),
        archives=json.dumps(manifests + problems))  # rendered with the run's id (Plan.query)
    if last is None:  # no intact verification yet: every ledger row, every live audit row
        values.update(_every_record("audit_log"))
    else:  # records: made by plan(), which reads what was written since on the reader
        values.update(ledger=_ledger(only=True), audited=render("audit/nightly/record_audit_rows"))
    return values


def _manifests(run: psycopg.Connection, directory: Path) -> tuple[list[dict], list[dict]]:
    """Each archived month's manifest with its file's SHA-256 as it is now (the file is hashed, not
    loaded), and the months whose manifest or file cannot be read, as problems."""
    found, problems = [], []
    for (month,) in run.execute("SELECT to_char(month, 'YYYY-MM') FROM audit_archives ORDER BY month"):
        try:
            manifest = archives.Manifest.read(directory, month)
        except LedgerError as exc:
            problems.append({"month": month, "row_count": 0, "problem": str(exc)})
            continue
        path = directory / manifest.file
        found.append({"month": month, "row_count": manifest.rows, "manifest_sha256": manifest.sha256,
                      "file_sha256": archives.sha256(path) if path.exists() else None, "seals": manifest.seals,
                      "problem": None if path.exists() else f"the file {path} is missing"})
    return found, problems


def record(run: psycopg.Connection, plan: Plan, run_id) -> None:
    """Records what the run verified, in the run's transaction, after its audit checks wrote their
    items: the verification, and for each block it re-hashed while the log held, when."""
    v = plan.values
    intact = run.execute(
        "SELECT NOT EXISTS (SELECT FROM reconciliation_items WHERE run_id = %s AND status = 'mismatch'"
        " AND check_name IN ('audit_log_intact', 'audit_trail_complete'))", (run_id,)).fetchone()[0]
    run.execute(sql.SQL(
        "WITH targets AS (SELECT * FROM ({targets}) t WHERE seal_no <= {head})"
        " INSERT INTO audit_verifications (run_id, kind, head_seal, new_seals, slice, slices, blocks, audit_rows,"
        "                                  ledger_rows, watermark, intact)"
        " SELECT {run_id}, {kind}, {head},"
        "        (SELECT count(*) FROM audit_seals WHERE seal_no > {verified_head} AND seal_no <= {head}),"
        "        {slice}, {slices},"
        "        (SELECT count(*) FROM targets), (SELECT coalesce(sum(row_count), 0) FROM targets),"
        "        {ledger_rows}, {watermark}::xid8, {intact}").format(
        targets=v["targets"], run_id=sql.Literal(run_id),
        kind=sql.Literal("full" if plan.full else "nightly"), head=sql.Literal(plan.head),
        verified_head=sql.Literal(v["verified_head"]),
        slice=sql.Literal(None if plan.full else v["slice"]), slices=sql.Literal(v["slices"]),
        ledger_rows=sql.Literal(plan.ledger_rows),
        watermark=sql.Literal(plan.watermark), intact=sql.Literal(intact)))
    if intact:
        run.execute(sql.SQL(
            "INSERT INTO audit_block_verifications (seal_no, block, verified_at)"
            " SELECT seal_no, block, now() FROM ({targets}) t WHERE seal_no <= {head}"
            " ON CONFLICT (seal_no, block) DO UPDATE SET verified_at = excluded.verified_at").format(
            targets=v["targets"], head=sql.Literal(plan.head)))


def recorded(conn: psycopg.Connection, run_id) -> dict | None:
    """What the run ``run_id`` verified (its audit_verifications row), None if it recorded nothing."""
    cursor = conn.execute("SELECT kind, head_seal, new_seals, slice, slices, blocks, audit_rows, ledger_rows, intact"
                          " FROM audit_verifications WHERE run_id = %s", (run_id,))
    row = cursor.fetchone()
    return dict(zip([c.name for c in cursor.description], row)) if row else None
