"""The nightly verification of the audit trail: new seals in full, every seal and anchor, a
rotating slice of the older blocks, the freshness of the oldest block's verification; and the full
re-hash of `audit verify --full`."""

import datetime as dt
import json
import uuid

import dagster as dg
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_audit_trail import deposit, tamper
from test_cli import run
from test_dagster import full_resources

from ledger_pipeline.audit import anchors as audit_anchors
from ledger_pipeline.audit import archives, lifecycle, seals, verification
from ledger_pipeline.definitions import defs
from ledger_pipeline.defs.reconciliation.assets import audit_full_verification
from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.reconciliation import Scope, reconcile
from ledger_pipeline.reconciliation.checks import AUDIT_CHECKS
from ledger_pipeline.reconciliation.recorder import run_with_items

N = 3  # LEDGER_AUDIT_VERIFY_DAYS in these tests


@pytest.fixture(autouse=True)
def three_nights_no_chance(monkeypatch):
    """A cycle of three runs, and no random blocks, so which run reads a block is known."""
    monkeypatch.setenv("LEDGER_AUDIT_VERIFY_DAYS", str(N))
    monkeypatch.setattr(verification, "RANDOM_BLOCKS", 0)


def nightly(db, found=()) -> dict:
    result = reconcile(db, Scope("manual", checks=AUDIT_CHECKS), anchors=list(found))
    assert result.status in ("passed", "failed"), result.error
    items = run_with_items(db, result.run_id)["items"]
    return {name: sorted((i["details"] for i in items if i["check_name"] == name), key=lambda d: d["subject"])
            for name in AUDIT_CHECKS}


def clean() -> dict:
    return {name: [] for name in AUDIT_CHECKS}


def verifications(db) -> list[dict]:
    with db.system_context() as conn:
        cursor = conn.execute("SELECT kind, head_seal, new_seals, slice, slices, blocks, audit_rows, ledger_rows,"
                              " intact FROM audit_verifications ORDER BY id")
        return [dict(zip([c.name for c in cursor.description], row)) for row in cursor]


def block_of(db, where: str) -> tuple[int, int]:
    with db.system_context() as conn:
        return conn.execute(f"SELECT seq / 4096, seq FROM audit_log WHERE {where}").fetchone()


def test_an_edit_in_a_seal_made_since_the_last_run_is_found_by_the_next_nightly_run(ledger, ledger_url, two_users):
    first = seals.seal(ledger)
    assert nightly(ledger) == clean()
    [done] = verifications(ledger)
    assert done["kind"] == "nightly" and done["head_seal"] == 1 and done["new_seals"] == 1 and done["intact"]
    assert done["slice"] == 0 and done["slices"] == N
    assert done["audit_rows"] == first.row_count and done["blocks"] >= 1 and done["ledger_rows"] > 0

    deposit(ledger, two_users.cash, two_users.wallet_a)
    second = seals.seal(ledger)
    tamper(ledger_url, "UPDATE audit_log SET db_login = 'nobody' WHERE seq = (SELECT max(seq) FROM audit_log)")
    found = nightly(ledger)
    assert [(f["seal_no"], f["problems"]) for f in found["audit_log_intact"]] == [
        (2, ["audit rows in the sealed range were changed, removed or added"])]
    latest = verifications(ledger)[-1]
    assert (latest["head_seal"], latest["new_seals"], latest["audit_rows"]) == (2, 1, second.row_count)
    assert latest["intact"] is False
    # A run that found something is no base: the next run re-hashes the new seal again.
    assert [f["seal_no"] for f in nightly(ledger)["audit_log_intact"]] == [2]


def test_a_ledger_row_added_around_the_triggers_is_found_the_next_night_and_one_changed_within_n_runs(
        ledger, ledger_url, two_users):
    seals.seal(ledger)
    assert nightly(ledger) == clean()  # the first run: every ledger row
    txn = uuid.uuid4()
    tamper(ledger_url, "INSERT INTO transactions (id, transaction_code, description) VALUES (%(txn)s, 'ADJUST', 'quiet')",
           params={"txn": txn})
    # It arrived since the last intact run: the next run finds it, and so does the run after (no base).
    for _ in range(2):
        found = nightly(ledger)["audit_trail_complete"]
        assert [(f["record_id"], f["problem"]) for f in found] == [(str(txn), "no audit row")]
    tamper(ledger_url, "DELETE FROM transactions WHERE id = %(txn)s", params={"txn": txn})
    assert nightly(ledger) == clean()

    # A change keeps the row's arrival: the slice holding its record's audit rows finds it, within N runs.
    tamper(ledger_url, "UPDATE accounts SET balance = balance + 5 WHERE id = %(wallet)s",
           params={"wallet": two_users.wallet_b})
    with ledger.system_context() as conn:
        blocks = {b for (b,) in conn.execute("SELECT DISTINCT seq / 4096 FROM audit_log WHERE record_id = %s",
                                             (two_users.wallet_b,))}
    slice_ = verifications(ledger)[-1]["slice"]
    slices = [(slice_ + 1 + n) % N for n in range(N)]
    found = [[(f["record_id"], f["problem"]) for f in nightly(ledger)["audit_trail_complete"]] for _ in slices]
    first = next(n for n, s in enumerate(slices) if s in {b % N for b in blocks})
    changed = [(str(two_users.wallet_b), "differs from its latest audit row")]
    # Found by then at the latest, it is reported every night until it is put right, slice or not.
    assert found[first:] == [changed] * (N - first)
    assert [(f["record_id"], f["problem"]) for f in nightly(ledger)["audit_trail_complete"]] == changed
    tamper(ledger_url, "UPDATE accounts SET balance = balance - 5 WHERE id = %(wallet)s",
           params={"wallet": two_users.wallet_b})
    assert nightly(ledger) == clean()


def test_an_edit_to_an_old_block_is_found_within_n_runs_and_by_a_full_verification_at_once(
        ledger, ledger_url, two_users, tmp_path):
    seals.seal(ledger)
    assert nightly(ledger) == clean()  # the first run: every seal is new to it
    block, seq = block_of(ledger, "seq = (SELECT min(seq) FROM audit_log)")
    tamper(ledger_url, "UPDATE audit_log SET ip_address = '203.0.113.9' WHERE seq = %(seq)s", params={"seq": seq})

    full = run("audit", "verify", "--full", "--json", url=ledger_url,
               env_extra={"LEDGER_AUDIT_ARCHIVE_DIR": str(tmp_path), "DAGSTER_HOME": ""})
    assert full.returncode == 1, full.stderr
    assert json.loads(full.stdout)["status"] == "failed"
    assert verifications(ledger)[-1]["kind"] == "full" and verifications(ledger)[-1]["intact"] is False
    shown = run("audit", "verify", "--full", url=ledger_url,
                env_extra={"LEDGER_AUDIT_ARCHIVE_DIR": str(tmp_path), "DAGSTER_HOME": ""})
    assert shown.returncode == 1 and "re-hashed: every sealed block: " in shown.stdout, shown.stdout

    # The next N nightly runs read slices 1, 2, 0: exactly the one holding the block finds it.
    slices = [(n + 1) % N for n in range(N)]
    found = [bool(nightly(ledger)["audit_log_intact"]) for _ in slices]
    assert [v["slice"] for v in verifications(ledger) if v["kind"] == "nightly"][1:] == slices
    assert found == [s == block % N for s in slices]


def test_full_verifications_one_after_another_on_one_connection(ledger, two_users):
    seals.seal(ledger)
    for _ in range(2):  # the pool hands the second run the first one's connection
        result = reconcile(ledger, Scope("manual", checks=AUDIT_CHECKS), anchors=[], audit_full=True)
        assert result.status == "passed", result.error
    assert [v["kind"] for v in verifications(ledger)] == ["full", "full"]


def test_an_altered_seal_or_anchor_anywhere_in_history_is_found_by_the_next_nightly_run(ledger, ledger_url, two_users):
    for _ in range(3):
        deposit(ledger, two_users.cash, two_users.wallet_a)
        seals.seal(ledger)
    kept = [audit_anchors.Anchor(s.seal_no, s.hash, s.row_count, "kept") for s in
            [seals.head(ledger)]]
    assert nightly(ledger, kept) == clean()
    altered = [audit_anchors.Anchor(1, "0" * 64, 1, "kept"), *kept]
    assert [(f["seal_no"], f["problems"]) for f in nightly(ledger, altered)["audit_log_intact"]] == [
        (1, ["the seal differs from its anchor"])]

    tamper(ledger_url, "UPDATE audit_seals SET row_count = row_count + 1 WHERE seal_no = 1")
    assert [(f["seal_no"], f["problems"]) for f in nightly(ledger, kept)["audit_log_intact"]] == [
        (1, ["the seal's hash does not match its record", "the seal's blocks do not match its digest"])]


def test_the_oldest_verification_older_than_n_plus_one_days_fails(ledger, two_users):
    seals.seal(ledger)
    assert nightly(ledger) == clean()  # slice 0; the next run reads slice 1
    with ledger.system_context() as conn:
        untouched = conn.execute("SELECT count(*) FROM audit_block_verifications WHERE block %% %s <> 1",
                                 (N,)).fetchone()[0]
    assert untouched > 0

    def age_all(days: float) -> None:
        with psycopg.connect(ledger.database_url()) as conn:
            conn.execute("UPDATE audit_block_verifications SET verified_at = now() - make_interval(secs => %s)",
                         (days * 86400,))

    age_all(N + 1 - 0.1)
    assert nightly(ledger)["audit_verification_fresh"] == []
    age_all(N + 1 + 0.1)
    [stale] = nightly(ledger)["audit_verification_fresh"]
    assert stale["stale_blocks"] == untouched and stale["limit_days"] == N + 1
    assert stale["oldest_age_days"] > N + 1


def test_an_archived_month_altered_is_found_nightly_without_reloading_it(ledger, ledger_url, two_users, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("LEDGER_AUDIT_ARCHIVE_DIR", str(tmp_path))
    today = dt.datetime.now(dt.timezone.utc).date().replace(day=1)
    months = today.year * 12 + today.month - 1 - 3
    old = dt.date(months // 12, months % 12 + 1, 1)
    with psycopg.connect(ledger_url) as conn:
        conn.execute("SELECT audit_create_partition(%s)", (old,))
    tamper(ledger_url, "UPDATE audit_log SET created_at = created_at - interval '3 months'")
    deposit(ledger, two_users.cash, two_users.wallet_a)
    seals.seal(ledger)
    manifest = lifecycle.archive(ledger, old, tmp_path)
    assert nightly(ledger) == clean()

    def loads(*_args, **_kwargs):
        raise AssertionError("the nightly run reloaded an archived month")

    monkeypatch.setattr(archives, "load", loads)
    table = pq.read_table(tmp_path / manifest.file)
    edited = table.set_column(table.schema.get_field_index("db_login"), "db_login",
                              pa.array(["someone"] * table.num_rows))
    pq.write_table(edited, tmp_path / manifest.file)
    [broken] = nightly(ledger)["audit_log_intact"]
    assert broken["month"] == f"{old:%Y-%m}"
    assert broken["problems"] == ["the file does not match its manifest's SHA-256"]

    # The manifest rewritten to match: the checksum recorded when the month was archived differs.
    archives.Manifest(**{**manifest.__dict__, "sha256": archives.sha256(tmp_path / manifest.file)}).write(tmp_path)
    [broken] = nightly(ledger)["audit_log_intact"]
    assert broken["problems"] == ["the manifest's SHA-256 is not the one recorded when the month was archived"]


def test_on_a_replica_the_nightly_audit_checks_read_the_replica(replicated):
    primary, on_replica, pair = replicated.primary, replicated.replicated, replicated.pair
    write_demo_data(primary, 20, users=2, days=1, seed=3)
    seals.seal(primary)
    pair.wait_replayed()
    pair.pause()
    try:
        tamper(primary.database_url(),
               "UPDATE audit_log SET db_login = 'nobody' WHERE seq = (SELECT max(seq) FROM audit_log)")
        assert [f["seal_no"] for f in nightly(primary)["audit_log_intact"]] == [1]
        # The replica has not replayed the edit: reading it, the same checks find the log intact.
        assert nightly(on_replica)["audit_log_intact"] == []
    finally:
        pair.resume()
    pair.wait_replayed()
    # Seal 1 is now old to the nightly run (the replica's run found it intact): its slice finds the edit.
    assert any(nightly(on_replica)["audit_log_intact"] for _ in range(N))


def test_the_full_verification_asset_and_its_monthly_schedule(ledger, ledger_url, two_users):
    schedule = defs.resolve_schedule_def("audit_full_verification_monthly")
    assert (schedule.cron_schedule, schedule.job_name, schedule.default_status) == (
        "0 3 1 * *", "audit_full_verification_job", dg.DefaultScheduleStatus.STOPPED)

    seals.seal(ledger)
    assert nightly(ledger) == clean()
    tamper(ledger_url, "UPDATE audit_log SET db_login = 'nobody' WHERE seq = (SELECT min(seq) FROM audit_log)")
    with dg.instance_for_test() as instance:
        result = dg.materialize([audit_full_verification], resources=full_resources(ledger_url), instance=instance)
    evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations == {name: name != "audit_log_intact" for name in AUDIT_CHECKS}
    assert verifications(ledger)[-1]["kind"] == "full" and verifications(ledger)[-1]["slice"] is None


def test_the_full_rehash_is_a_query_postgresql_can_run_with_parallel_workers(ledger, two_users, tmp_path):
    from psycopg import sql

    seals.seal(ledger)
    with ledger.system_context() as conn:
        # Costs as on a large log, which these few rows are not: starting workers is worth it. The
        # cost of passing rows on is the one the full verification plans with (costed_as_hashing).
        for setting in ("parallel_setup_cost", "min_parallel_table_scan_size"):
            conn.execute(f"SET LOCAL {setting} = 0")
        conn.execute("SET LOCAL max_parallel_workers_per_gather = 2")
        verification.prepare(conn, [], tmp_path)
        with verification.costed_as_hashing(conn):
            [[plan]] = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON, VERBOSE) CREATE TEMP TABLE t AS {}").format(
                verification.full_query(conn, "audit_log_intact", None))).fetchall()

    def nodes(node, gathered=False):
        yield node, gathered
        for child in node.get("Plans", []):
            yield from nodes(child, gathered or node["Node Type"] in ("Gather", "Gather Merge"))

    found = list(nodes(plan[0]["Plan"]))
    # The log scanned by the workers, and each row's digest computed there.
    assert any(gathered and node.get("Parallel Aware") and node.get("Relation Name", "").startswith("audit_log")
               for node, gathered in found), json.dumps(plan, default=str)[:3000]
    assert any(gathered and "sha256" in " ".join(node.get("Output", [])) for node, gathered in found), \
        json.dumps(plan, indent=1, default=str)
