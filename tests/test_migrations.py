import re
import shutil

import psycopg
import pytest
from conftest import add_account, at_once

from ledger_pipeline.platform.migrations import MIGRATIONS_DIR, MigrationError, Runner

ALL = ["001", "002", "006", "007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020", "021"]


def table_exists(url: str, name: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def recorded(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def test_up_status_down_up_again(empty_db_url, template_db):
    runner = Runner(empty_db_url)
    assert [r["state"] for r in runner.status()] == ["pending"] * len(ALL)

    assert runner.up() == ALL
    assert [(r["version"], r["state"]) for r in runner.status()] == [(v, "applied") for v in ALL]
    assert table_exists(empty_db_url, "audit_log")

    assert runner.down("006") == ["021", "020", "019", "018", "017", "016", "015", "014", "013", "012", "011", "010", "009", "008", "007", "006"]
    assert recorded(empty_db_url) == ["001", "002"]
    assert not table_exists(empty_db_url, "audit_log")
    assert not table_exists(empty_db_url, "reconciliation_runs")
    with psycopg.connect(empty_db_url) as conn:
        leftovers = conn.execute(
            "SELECT count(*) FROM pg_policy"
            " UNION ALL SELECT count(*) FROM pg_proc WHERE proname IN"
            " ('set_user_context', 'set_system_context', 'clear_context', 'audit_write', 'audit_entries')"
            " UNION ALL SELECT count(*) FROM pg_class WHERE relrowsecurity AND relname IN ('accounts', 'entries')"
        ).fetchall()
    assert leftovers == [(0,), (0,), (0,)]
    with psycopg.connect(empty_db_url) as conn:  # logins granted the roles keep them
        assert conn.execute("SELECT pg_has_role('ledger_test_app', 'ledger_app', 'MEMBER')").fetchone()[0]

    assert runner.up() == ["006", "007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020", "021"]
    assert runner.up() == []
    assert recorded(empty_db_url) == ALL


def migrated_before(version: str, databases, tmp_path) -> str:
    """A database with every migration older than ``version`` applied, and none after."""
    shutil.copytree(MIGRATIONS_DIR, tmp_path / "before",
                    ignore=lambda _, names: [n for n in names if n[:3].isdigit() and n[:3] >= version])
    url = databases.create()
    Runner(url, tmp_path / "before").up()
    return url


def catalog(url: str, *queries: str) -> list:
    """The rows of each catalog query (each two text columns), sorted: a schema to compare."""
    with psycopg.connect(url) as conn:
        return sorted(row for query in queries for row in conn.execute(query))


def definitions_008_changes(url: str) -> list:
    return catalog(url, "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('audit_log', 'entries')",
                   "SELECT policyname, qual FROM pg_policies",
                   "SELECT proname, pg_get_functiondef(oid) || proacl::text FROM pg_proc WHERE proname = 'audit_write'")


def test_008_down_restores_006s_definitions(empty_db_url, databases, tmp_path):
    before_008 = migrated_before("008", databases, tmp_path)
    runner = Runner(empty_db_url)
    runner.up()
    assert definitions_008_changes(empty_db_url) != definitions_008_changes(before_008)
    assert runner.down("008") == ["021", "020", "019", "018", "017", "016", "015", "014", "013", "012", "011", "010", "009", "008"]
    assert definitions_008_changes(empty_db_url) == definitions_008_changes(before_008)


def audit_log_definition(url: str) -> list:
    return catalog(
        url,
        "SELECT column_name, concat_ws(' ', data_type, is_nullable, column_default, identity_generation)"
        " FROM information_schema.columns WHERE table_name = 'audit_log'",
        # Not-null constraints are catalog rows from PostgreSQL 18 on; the columns say them on both servers.
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'audit_log'::regclass"
        " AND contype <> 'n'",
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_log'",
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal",
        "SELECT pg_get_serial_sequence('audit_log', 'seq'), relacl::text FROM pg_class WHERE oid = 'audit_log'::regclass",
    )


def test_010_down_restores_009s_audit_log_with_its_rows(empty_db_url, databases, tmp_path):
    before_010 = migrated_before("010", databases, tmp_path)
    runner = Runner(empty_db_url)
    runner.up()
    with psycopg.connect(empty_db_url) as conn:
        add_account(conn, "A", "asset")
        rows = conn.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
        last = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    runner.down("010")
    assert audit_log_definition(empty_db_url) == audit_log_definition(before_010)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT * FROM audit_log ORDER BY seq").fetchall() == rows
        add_account(conn, "B", "asset")
        assert conn.execute("SELECT min(seq) FROM audit_log WHERE seq > %s", (last,)).fetchone()[0] == last + 1
    assert runner.up() == ["010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020", "021"]


@pytest.mark.parametrize("restore, refusal", [
    ("-- restore: audit_writer from 016_statements.up.sql", "016_statements.up.sql defines audit_writer 0 times, not once"),
    ("-- restore: audit_write from 008_audit_index_kinds.up.sql",
     "audit_write was changed again after 008_audit_index_kinds.up.sql, in 016_statements.up.sql"),
    ("-- Restore: audit_write from 016_statements.up.sql ", "is not '-- restore: NAME from NNN_name.up.sql'"),
])
def test_a_restore_that_would_not_put_back_what_was_there_refuses_the_whole_rollback(empty_db_url, tmp_path,
                                                                                    restore, refusal):
    shutil.copytree(MIGRATIONS_DIR, tmp_path / "m")
    runner = Runner(empty_db_url, tmp_path / "m")
    runner.up()
    down = tmp_path / "m" / "018_statement_matches.down.sql"
    down.write_text(down.read_text().replace("-- restore: audit_write from 016_statements.up.sql", restore))
    with pytest.raises(MigrationError, match=re.escape(refusal)):
        runner.down("018")
    assert recorded(empty_db_url) == ALL  # refused before anything was rolled back
    assert table_exists(empty_db_url, "statement_matches")


def test_down_rolls_back_newer_versions_first(empty_db_url):
    runner = Runner(empty_db_url)
    runner.up()
    assert runner.down("002") == ["021", "020", "019", "018", "017", "016", "015", "014", "013", "012", "011", "010", "009", "008", "007", "006", "002"]
    assert recorded(empty_db_url) == ["001"]
    assert runner.up() == ["002", "006", "007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020", "021"]


def test_edited_applied_file_is_refused(empty_db_url, tmp_path):
    shutil.copytree(MIGRATIONS_DIR, tmp_path / "m")
    Runner(empty_db_url, tmp_path / "m").up()
    path = tmp_path / "m" / "002_posting.up.sql"
    path.write_text(path.read_text() + "\n-- an afterthought\n")
    runner = Runner(empty_db_url, tmp_path / "m")
    with pytest.raises(MigrationError, match="002_posting.up.sql was edited after it was applied"):
        runner.up()
    with pytest.raises(MigrationError, match="edited"):
        runner.down("006")
    assert recorded(empty_db_url) == ALL
    assert [r["state"] for r in runner.status()] == ["applied", "applied, file edited"] + ["applied"] * (len(ALL) - 2)


def test_missing_applied_file_is_refused(empty_db_url, tmp_path):
    shutil.copytree(MIGRATIONS_DIR, tmp_path / "m")
    Runner(empty_db_url, tmp_path / "m").up()
    (tmp_path / "m" / "006_production_security.up.sql").unlink()
    (tmp_path / "m" / "006_production_security.down.sql").unlink()
    with pytest.raises(MigrationError, match="migration 006 is applied but its file is missing"):
        Runner(empty_db_url, tmp_path / "m").up()


def test_failed_migration_leaves_nothing_half_applied(empty_db_url, tmp_path):
    shutil.copytree(MIGRATIONS_DIR, tmp_path / "m")
    (tmp_path / "m" / "999_broken.up.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n"
    )
    with pytest.raises(MigrationError, match="999_broken.up.sql failed and was rolled back"):
        Runner(empty_db_url, tmp_path / "m").up()
    assert recorded(empty_db_url) == ALL  # the ones before it each committed on their own
    assert not table_exists(empty_db_url, "half_done")


def test_unknown_version_and_nothing_to_roll_back(empty_db_url):
    runner = Runner(empty_db_url)
    with pytest.raises(MigrationError, match="unknown migration version '099'"):
        runner.down("099")
    with pytest.raises(MigrationError, match="nothing to roll back: migration 006 is not applied"):
        runner.down("006")


def test_checkpoints_roll_back_to_the_schema_before_them(empty_db_url):
    runner = Runner(empty_db_url)
    runner.up()
    assert runner.down("007") == ["021", "020", "019", "018", "017", "016", "015", "014", "013", "012", "011", "010", "009", "008", "007"]
    with psycopg.connect(empty_db_url) as conn:
        columns = {c for (c,) in conn.execute("SELECT column_name FROM information_schema.columns"
                                              " WHERE table_name IN ('entries', 'reconciliation_runs')")}
    assert not {"arrival_xid", "snapshot"} & columns
    assert not table_exists(empty_db_url, "reconciliation_checkpoints")
    assert runner.up() == ["007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020", "021"]


def test_two_runners_at_once_apply_each_migration_once(empty_db_url):
    results = at_once(*[lambda: Runner(empty_db_url).up()] * 2)
    assert sorted(results, key=len) == [[], ALL]
    assert recorded(empty_db_url) == ALL


def test_adopts_the_seed_tools_schema_migrations(empty_db_url):
    # The seed's own tool applied 001-005 and recorded them in its own table shape.
    with psycopg.connect(empty_db_url) as conn:
        for version in ("001", "002"):
            conn.execute(next(MIGRATIONS_DIR.glob(f"{version}_*.up.sql")).read_text())
        conn.execute("CREATE TABLE schema_migrations (version varchar(255) PRIMARY KEY, run_on timestamp)")
        conn.execute(
            "INSERT INTO schema_migrations (version, run_on)"
            " SELECT to_char(n, 'FM000'), now() FROM generate_series(1, 5) n"
        )
    runner = Runner(empty_db_url)
    assert runner.up() == ["006", "007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020", "021"]
    states = {r["version"]: r["state"] for r in runner.status()}
    assert states == {"001": "adopted", "002": "adopted", "003": "adopted", "004": "adopted",
                      "005": "adopted", "006": "applied", "007": "applied",
                      "008": "applied", "009": "applied", "010": "applied", "011": "applied", "012": "applied", "013": "applied", "014": "applied", "015": "applied", "016": "applied",
                      "017": "applied", "018": "applied", "019": "applied", "020": "applied", "021": "applied"}
    assert table_exists(empty_db_url, "audit_log")


def test_replica_position_columns_roll_back(empty_db_url):
    runner = Runner(empty_db_url)
    runner.up()
    assert runner.down("013") == ["021", "020", "019", "018", "017", "016", "015", "014", "013"]
    with psycopg.connect(empty_db_url) as conn:
        columns = {c for (c,) in conn.execute("SELECT column_name FROM information_schema.columns"
                                              " WHERE table_name = 'reconciliation_runs'")}
    assert not {c for c in columns if c.startswith("replica_")}
    assert runner.up() == ["013", "014", "015", "016", "017", "018", "019", "020", "021"]


def test_statements_roll_back_to_the_audit_write_before_them(empty_db_url):
    runner = Runner(empty_db_url)
    runner.up()
    assert runner.down("016") == ["021", "020", "019", "018", "017", "016"]
    for table in ("bank_accounts", "statement_files", "statements", "statement_lines"):
        assert not table_exists(empty_db_url, table)
    with psycopg.connect(empty_db_url) as conn:
        definition = conn.execute("SELECT pg_get_functiondef('audit_write'::regproc)").fetchone()[0]
        assert "statement" not in definition
        assert conn.execute("SELECT to_regproc('audit_statements')").fetchone() == (None,)
    assert runner.up() == ["016", "017", "018", "019", "020", "021"]


def test_statement_matches_roll_back_to_016s_audit_write_and_run_types(empty_db_url):
    runner = Runner(empty_db_url)
    runner.up()
    with psycopg.connect(empty_db_url) as conn:
        with_matches = conn.execute("SELECT pg_get_functiondef('audit_write'::regproc)").fetchone()[0]
    assert runner.down("018") == ["021", "020", "019", "018"]
    assert not table_exists(empty_db_url, "statement_matches")
    assert not table_exists(empty_db_url, "statement_match_links")
    with psycopg.connect(empty_db_url) as conn:
        definition = conn.execute("SELECT pg_get_functiondef('audit_write'::regproc)").fetchone()[0]
        assert "statement_lines" in definition and "statement_match" not in definition
        check = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                             " WHERE conname = 'reconciliation_runs_run_type_check'").fetchone()[0]
        assert "external" not in check
    assert runner.up() == ["018", "019", "020", "021"]
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT pg_get_functiondef('audit_write'::regproc)").fetchone()[0] == with_matches
