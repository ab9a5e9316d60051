"""The tamper-evident audit trail: seals, anchors, the three audit checks, partitions, archive."""

import datetime as dt
import json
import threading
import uuid
from decimal import Decimal

import dagster as dg
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import add_account
from test_cli import run
from test_dagster import full_resources

from ledger_pipeline.audit import archives, lifecycle, seals
from ledger_pipeline.defs.audit import dagster_anchors
from ledger_pipeline.defs.audit.assets import audit_log_partitions, audit_seals
from ledger_pipeline.defs.reconciliation.assets import full_reconciliation
from ledger_pipeline.defs.resources import LedgerResource
from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.platform.db import LedgerDatabase
from ledger_pipeline.platform.errors import LedgerError
from ledger_pipeline.platform.migrations import MigrationError, Runner
from ledger_pipeline.reconciliation import Scope, reconcile
from ledger_pipeline.reconciliation.checks import AUDIT_CHECKS
from ledger_pipeline.reconciliation.recorder import run_with_items


def deposit(db, cash, wallet, amount=10):
    with db.system_context() as conn:
        return post_transaction(conn, "DEPOSIT", [Entry(cash, "debit", Decimal(amount)),
                                                  Entry(wallet, "credit", Decimal(amount))])


def tamper(url: str, *statements, params=None):
    """What an owner or superuser can do: silence the triggers and write what they like."""
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement, params)


def audit_only(db, found=()) -> dict:
    result = reconcile(db, Scope("manual", checks=AUDIT_CHECKS), anchors=list(found), audit_full=True)
    assert result.status in ("passed", "failed"), result.error
    items = run_with_items(db, result.run_id)["items"]
    return {name: sorted((i["details"] for i in items if i["check_name"] == name), key=lambda d: d["subject"])
            for name in AUDIT_CHECKS}


def seal_txids(db) -> list[tuple[int, int, int]]:
    with db.system_context() as conn:
        return conn.execute("SELECT seal_no, from_txid, to_txid FROM audit_seals ORDER BY seal_no").fetchall()


def test_edited_deleted_and_inserted_audit_rows_are_caught_with_their_sealed_range(ledger, ledger_url, two_users):
    sealed = []
    for _ in range(3):  # three seals, one tampering in each
        deposit(ledger, two_users.cash, two_users.wallet_a)
        sealed.append(seals.seal(ledger))
    assert [s.seal_no for s in sealed] == [1, 2, 3] and seals.seal(ledger) is None
    assert audit_only(ledger) == {name: [] for name in AUDIT_CHECKS}
    first, second, _ = sealed
    tamper(ledger_url,
           "UPDATE audit_log SET ip_address = '203.0.113.9' WHERE seq = (SELECT min(seq) FROM audit_log WHERE txid < %(a)s)",
           # a balance update that the next posting's supersedes, so only the seal can tell
           "DELETE FROM audit_log WHERE seq = (SELECT min(seq) FROM audit_log"
           "                                   WHERE txid >= %(a)s AND txid < %(b)s AND table_name = 'accounts')",
           "INSERT INTO audit_log (table_name, operation, record_id, db_role, txid)"
           " VALUES ('entries', 'DELETE', gen_random_uuid(), 'ledger_system', %(b)s)",
           params={"a": first.to_txid, "b": second.to_txid})

    found = audit_only(ledger)["audit_log_intact"]
    assert [(f["seal_no"], f["from_txid"], f["to_txid"]) for f in found] == seal_txids(ledger)
    assert all("seal %s (txid %s to %s" % (f["seal_no"], f["from_txid"], f["to_txid"]) in f["subject"] for f in found)
    assert [f["problems"] for f in found] == [["audit rows in the sealed range were changed, removed or added"]] * 3
    [[edited], [deleted], [inserted]] = [f["altered_blocks"] for f in found]
    assert edited["sealed_rows"] == edited["found_rows"]
    assert deleted["found_rows"] == deleted["sealed_rows"] - 1
    assert inserted["found_rows"] == inserted["sealed_rows"] + 1

    full = reconcile(ledger, Scope("manual"), anchors=[])
    assert full.status == "failed"
    assert {n for n, c in full.checks.items() if not c.passed} == {"audit_log_intact"}
    items = sorted(run_with_items(ledger, full.run_id)["items"], key=lambda i: i["details"]["seal_no"])
    assert [(i["check_name"], i["details"]["seal_no"], i["expected"], i["actual"]) for i in items] == [
        ("audit_log_intact", s.seal_no, s.row_count, 0) for s in sealed]


def test_ledger_rows_written_around_the_triggers_break_the_trail(ledger, ledger_url, two_users):
    tamper(ledger_url, "UPDATE accounts SET balance = balance + 5 WHERE id = %(wallet)s",
           "INSERT INTO transactions (id, transaction_code, description) VALUES (%(txn)s, 'ADJUST', 'quiet')",
           "DELETE FROM entries WHERE id = (SELECT min(id::text)::uuid FROM entries WHERE transaction_id = %(dep)s)",
           params={"wallet": two_users.wallet_b, "txn": (txn := uuid.uuid4()), "dep": two_users.deposit_a})
    found = {f["record_id"]: f for f in audit_only(ledger)["audit_trail_complete"]}
    assert found[str(two_users.wallet_b)]["problem"] == "differs from its latest audit row"
    assert found[str(two_users.wallet_b)]["stored"] == {"balance": 55} and \
        found[str(two_users.wallet_b)]["audited"] == {"balance": 50}
    assert found[str(txn)]["problem"] == "no audit row"
    assert [f["problem"] for f in found.values() if f["table"] == "entries"] == ["deleted without an audit row"]
    assert len(found) == 3


def test_a_disabled_trigger_is_caught(ledger, ledger_url, two_users):
    with psycopg.connect(ledger_url) as conn:
        conn.execute("ALTER TABLE entries DISABLE TRIGGER trigger_audit_entries")
        conn.execute("ALTER TABLE audit_seals DISABLE TRIGGER prevent_seal_update")
        partition = conn.execute("SELECT inhrelid::regclass::text FROM pg_inherits"
                                 " WHERE inhparent = 'audit_log'::regclass LIMIT 1").fetchone()[0]
        conn.execute(f"DROP TRIGGER prevent_audit_truncate ON {partition}")
    found = audit_only(ledger)["audit_triggers_enabled"]
    assert sorted((f["table"], f["trigger"], f["problem"]) for f in found) == sorted([
        ("entries", "trigger_audit_entries", "disabled"),
        ("audit_seals", "prevent_seal_update", "disabled"),
        (partition, "prevent_audit_truncate", "missing"),
    ])


def test_rewriting_the_log_and_every_seal_is_caught_by_the_anchors(ledger, ledger_url, two_users, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_AUDIT_ANCHOR_FILE", str(tmp_path / "anchors.jsonl"))
    resources = full_resources(ledger_url)
    with dg.instance_for_test() as instance:
        for _ in range(2):
            deposit(ledger, two_users.cash, two_users.wallet_a)
            assert dg.materialize([audit_seals], resources=resources, instance=instance).success
        kept = dagster_anchors.read(instance)
        assert sorted((a.seal_no, a.source) for a in kept) == sorted(
            (n, source) for n in (1, 2) for source in ("dagster", str(tmp_path / "anchors.jsonl")))

        # Edit a row, then rebuild the whole chain so that it agrees with itself.
        tamper(ledger_url, "UPDATE audit_log SET user_id = %(u)s WHERE seq = (SELECT min(seq) FROM audit_log)",
               "DELETE FROM audit_seals", "SELECT audit_seal()", params={"u": two_users.b})
        assert audit_only(ledger)["audit_log_intact"] == []  # inside the database, all is consistent
        found = audit_only(ledger, kept)["audit_log_intact"]
        assert [(f["seal_no"], f["problems"]) for f in found] == [
            (1, ["the seal differs from its anchor"]), (2, ["an anchored seal is missing from audit_seals"])]
        assert {a["source"] for a in found[0]["anchors_disagreeing"]} == {"dagster", str(tmp_path / "anchors.jsonl")}

        # The asset reads the anchors from its own instance: the asset check fails.
        result = dg.materialize([full_reconciliation], resources=resources, instance=instance)
        evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert evaluations["audit_log_intact"] is False and evaluations["audit_trail_complete"] is True


def test_sealing_while_four_clients_post_seals_every_row_exactly_once(ledger, ledger_url, two_users):
    stop = threading.Event()
    errors = []

    def post():
        db = LedgerDatabase(ledger_url, max_connections=1)
        try:
            while not stop.is_set():
                deposit(db, two_users.cash, two_users.wallet_a, 1)
                try:  # a rolled-back posting leaves a gap in seq, which is not a deletion
                    with db.system_context() as conn:
                        add_account(conn, f"GONE-{uuid.uuid4().hex[:8]}", "asset")
                        raise RuntimeError("roll back")
                except RuntimeError:
                    pass
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            db.close()

    clients = [threading.Thread(target=post) for _ in range(4)]
    for client in clients:
        client.start()
    made = []
    try:
        while len(made) < 8:
            if (new := seals.seal(ledger)) is not None:
                made.append(new)
    finally:
        stop.set()
        for client in clients:
            client.join()
    assert not errors
    if (last := seals.seal(ledger)) is not None:  # everything, now that the clients have stopped
        made.append(last)
    with ledger.system_context() as conn:
        total, top = conn.execute("SELECT count(*), max(txid) FROM audit_log").fetchone()
        counted = conn.execute(
            "SELECT count(*) FROM audit_log a JOIN audit_seals s ON a.txid >= s.from_txid AND a.txid < s.to_txid"
        ).fetchone()[0]
    assert made[-1].to_txid > top
    assert sum(s.row_count for s in made) == total == counted  # each row in exactly one seal
    assert [s.seal_no for s in made] == list(range(1, len(made) + 1))
    assert audit_only(ledger)["audit_log_intact"] == []


def test_partitions_ahead_archive_and_restore(ledger, ledger_url, two_users, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_AUDIT_ARCHIVE_DIR", str(tmp_path))
    this_month = dt.datetime.now(dt.timezone.utc).date().replace(day=1)

    def month(offset: int) -> dt.date:
        months = this_month.year * 12 + this_month.month - 1 + offset
        return dt.date(months // 12, months % 12 + 1, 1)

    names = [p.name for p in lifecycle.partitions(ledger)]
    assert {lifecycle.partition_name(month(n)) for n in range(lifecycle.PARTITIONS_AHEAD + 1)} <= set(names)
    assert "audit_log_default" in names

    # History from three months ago: the fixture's rows, moved back in time before they are sealed.
    old = month(-3)
    with psycopg.connect(ledger_url) as conn:
        conn.execute("SELECT audit_create_partition(%s)", (old,))
    tamper(ledger_url, "UPDATE audit_log SET created_at = created_at - interval '3 months'")
    everything = "SELECT count(*), sum(hashtext(audit_log::text)) FROM audit_log"
    with ledger.system_context() as conn:
        old_rows = conn.execute("SELECT count(*) FROM audit_log WHERE created_at < %s", (month(-2),)).fetchone()[0]
    assert old_rows > 0
    with pytest.raises(LedgerError, match="not sealed yet"):
        lifecycle.archive(ledger, old, tmp_path)
    deposit(ledger, two_users.cash, two_users.wallet_a)  # rows this month, under the same seal
    seals.seal(ledger)
    with ledger.system_context() as conn:
        before = conn.execute(everything).fetchone()

    result = dg.materialize([audit_log_partitions], resources={"ledger_db": LedgerResource(url=ledger_url)})
    metadata = result.asset_materializations_for_node("audit_log_partitions")[0].metadata
    assert metadata[f"rows_{lifecycle.partition_name(old)}"].value == old_rows
    assert metadata["rows"].value == before[0] and metadata[f"bytes_{lifecycle.partition_name(old)}"].value > 0

    assert lifecycle.archivable(ledger, this_month, retention_months=1) == [old]
    assert lifecycle.archivable(ledger, this_month, retention_months=12) == []
    manifest = lifecycle.archive(ledger, old, tmp_path)
    assert manifest.rows == old_rows and [s["seal_no"] for s in manifest.seals] == [1]
    assert lifecycle.partition_name(old) not in [p.name for p in lifecycle.partitions(ledger)]
    with ledger.system_context() as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == before[0] - old_rows

    # Verification reads the archived month from its file: the chain and the trail hold across it.
    assert audit_only(ledger) == {name: [] for name in AUDIT_CHECKS}
    # A file rewritten with a new checksum in its manifest is caught by the chain.
    original = (tmp_path / manifest.file).read_bytes()
    table = pq.read_table(tmp_path / manifest.file)
    edited = table.set_column(table.schema.get_field_index("db_login"), "db_login",
                              pa.array(["someone"] * table.num_rows))
    pq.write_table(edited, tmp_path / manifest.file)
    archives.Manifest(**{**manifest.__dict__, "sha256": archives.sha256(tmp_path / manifest.file)}).write(tmp_path)
    [broken] = audit_only(ledger)["audit_log_intact"]
    assert broken["seal_no"] == 1 and broken["altered_blocks"]
    with pytest.raises(LedgerError, match="does not verify against the chain, so it stays archived"):
        lifecycle.restore(ledger, old, tmp_path)

    (tmp_path / manifest.file).write_bytes(original)
    manifest.write(tmp_path)
    lifecycle.restore(ledger, old, tmp_path)
    with ledger.system_context() as conn:
        assert conn.execute(everything).fetchone() == before
        assert conn.execute("SELECT count(*) FROM audit_archives").fetchone()[0] == 0
    assert audit_only(ledger) == {name: [] for name in AUDIT_CHECKS}


def test_the_audit_commands(ledger_url, ledger, two_users, tmp_path):
    env = {"LEDGER_AUDIT_ANCHOR_FILE": str(tmp_path / "anchors.jsonl"), "LEDGER_AUDIT_ARCHIVE_DIR": str(tmp_path),
           "DAGSTER_HOME": ""}
    sealed = run("audit", "seal", url=ledger_url, env_extra=env)
    assert sealed.returncode == 0, sealed.stderr
    assert "seal 1: " in sealed.stdout and f"anchored in: {tmp_path / 'anchors.jsonl'}" in sealed.stdout
    assert "nothing to seal" in run("audit", "seal", url=ledger_url, env_extra=env).stdout
    verified = run("audit", "verify", "--json", url=ledger_url, env_extra=env)
    assert verified.returncode == 0 and json.loads(verified.stdout)["status"] == "passed"

    tamper(ledger_url, "UPDATE audit_log SET db_login = 'nobody' WHERE seq = (SELECT max(seq) FROM audit_log)",
           "DELETE FROM audit_seals", "SELECT audit_seal()")
    found = run("audit", "verify", url=ledger_url, env_extra=env)
    assert found.returncode == 1
    assert "audit_log_intact" in found.stdout and "seal 1 (txid 0 to" in found.stdout
    assert "the seal differs from its anchor" in found.stdout and "anchors compared: 1" in found.stdout

    assert "nothing to archive before 2000-01" in run("audit", "archive", "--before", "2000-01", url=ledger_url,
                                                        env_extra=env).stdout
    bad = run("audit", "restore", "2026-13", url=ledger_url, env_extra=env)
    assert bad.returncode == 2 and "expected a month like 2026-01" in bad.stderr
    missing = run("audit", "restore", "2001-01", url=ledger_url, env_extra=env)
    assert missing.returncode == 2 and "2001-01 is not archived" in missing.stderr


def test_the_audit_assets_jobs_and_schedules_are_defined():
    from ledger_pipeline.definitions import defs

    seal_schedule = defs.resolve_schedule_def("audit_seal_every_15_minutes")
    partitions_schedule = defs.resolve_schedule_def("audit_partitions_daily")
    assert (seal_schedule.cron_schedule, seal_schedule.job_name) == ("*/15 * * * *", "audit_seal_job")
    assert (partitions_schedule.cron_schedule, partitions_schedule.job_name) == ("30 1 * * *", "audit_partitions_job")
    assert {c.name for c in full_reconciliation.check_specs} >= set(AUDIT_CHECKS)


def test_migration_010_down_and_up_keeps_every_row_and_seal(ledger, ledger_url, two_users, tmp_path):
    seals.seal(ledger)
    everything = "SELECT count(*), sum(hashtext(audit_log::text)), max(seq) FROM audit_log"
    with ledger.system_context() as conn:
        before = conn.execute(everything).fetchone()
    runner = Runner(ledger_url)
    assert runner.down("010") == ["021", "020", "019", "018", "017", "016", "015", "014", "013", "012", "011", "010"]  # the later migrations first
    with psycopg.connect(ledger_url) as conn:
        assert conn.execute(everything).fetchone() == before
        assert conn.execute("SELECT relkind FROM pg_class WHERE relname = 'audit_log'").fetchone() == ("r",)
    deposit(ledger, two_users.cash, two_users.wallet_a)  # seq goes on from where it was
    assert runner.up() == ["010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020", "021"]
    with ledger.system_context() as conn:
        count, _, top = conn.execute(everything).fetchone()
    assert count > before[0] and top == before[2] + count - before[0]
    assert audit_only(ledger) == {name: [] for name in AUDIT_CHECKS}

    # With a month archived, rolling back would lose it: refused.
    with psycopg.connect(ledger_url) as conn:
        conn.execute("INSERT INTO audit_archives VALUES ('2001-01-01', 'f', 'x', 0)")
    with pytest.raises(MigrationError, match="2001-01 are archived"):
        runner.down("010")
