import shutil
import threading

import psycopg
import pytest

from ledger_pipeline.platform.migrations import MIGRATIONS_DIR, MigrationError, Runner

ALL = ["001", "002", "006", "007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "020"]


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

    assert runner.down("006") == ["020", "018", "017", "016", "015", "014", "013", "012", "011", "010", "009", "008", "007", "006"]
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

    assert runner.up() == ["006", "007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "020"]
    assert runner.up() == []
    assert recorded(empty_db_url) == ALL


def definitions_008_changes(url: str) -> list:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('audit_log', 'entries')"
            " UNION ALL SELECT policyname, qual FROM pg_policies"
            " UNION ALL SELECT proname, pg_get_functiondef(oid) || proacl::text FROM pg_proc WHERE proname = 'audit_write'"
            " ORDER BY 1"
        ).fetchall()


def test_008_down_restores_006s_definitions(empty_db_url, databases, tmp_path):
    shutil.copytree(MIGRATIONS_DIR, tmp_path / "m", ignore=shutil.ignore_patterns("008_*", "009_*", "010_*", "011_*", "012_*",
                                                                                "013_*", "014_*", "015_*", "016_*", "017_*", "018_*", "020_*"))
    before_008 = databases.create()
    assert Runner(before_008, tmp_path / "m").up() == ["001", "002", "006", "007"]
    runner = Runner(empty_db_url)
    runner.up()
    assert definitions_008_changes(empty_db_url) != definitions_008_changes(before_008)
    assert runner.down("008") == ["020", "018", "017", "016", "015", "014", "013", "012", "011", "010", "009", "008"]
    assert definitions_008_changes(empty_db_url) == definitions_008_changes(before_008)


def test_down_rolls_back_newer_versions_first(empty_db_url):
    runner = Runner(empty_db_url)
    runner.up()
    assert runner.down("002") == ["020", "018", "017", "016", "015", "014", "013", "012", "011", "010", "009", "008", "007", "006", "002"]
    assert recorded(empty_db_url) == ["001"]
    assert runner.up() == ["002", "006", "007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "020"]


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
    assert runner.down("007") == ["020", "018", "017", "016", "015", "014", "013", "012", "011", "010", "009", "008", "007"]
    with psycopg.connect(empty_db_url) as conn:
        columns = {c for (c,) in conn.execute("SELECT column_name FROM information_schema.columns"
                                              " WHERE table_name IN ('entries', 'reconciliation_runs')")}
    assert not {"arrival_xid", "snapshot"} & columns
    assert not table_exists(empty_db_url, "reconciliation_checkpoints")
    assert runner.up() == ["007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "020"]


def test_two_runners_at_once_apply_each_migration_once(empty_db_url):
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        start.wait()
        try:
            results.append(Runner(empty_db_url).up())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
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
    assert runner.up() == ["006", "007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "020"]
    states = {r["version"]: r["state"] for r in runner.status()}
    assert states == {"001": "adopted", "002": "adopted", "003": "adopted", "004": "adopted",
                      "005": "adopted", "006": "applied", "007": "applied",
                      "008": "applied", "009": "applied", "010": "applied", "011": "applied", "012": "applied", "013": "applied", "014": "applied", "015": "applied", "016": "applied",
                      "017": "applied", "018": "applied", "020": "applied"}
    assert table_exists(empty_db_url, "audit_log")


def test_replica_position_columns_roll_back(empty_db_url):
    runner = Runner(empty_db_url)
    runner.up()
    assert runner.down("013") == ["020", "018", "017", "016", "015", "014", "013"]
    with psycopg.connect(empty_db_url) as conn:
        columns = {c for (c,) in conn.execute("SELECT column_name FROM information_schema.columns"
                                              " WHERE table_name = 'reconciliation_runs'")}
    assert not {c for c in columns if c.startswith("replica_")}
    assert runner.up() == ["013", "014", "015", "016", "017", "018", "020"]


def test_statements_roll_back_to_the_audit_write_before_them(empty_db_url):
    runner = Runner(empty_db_url)
    runner.up()
    assert runner.down("016") == ["020", "018", "017", "016"]
    for table in ("bank_accounts", "statement_files", "statements", "statement_lines"):
        assert not table_exists(empty_db_url, table)
    with psycopg.connect(empty_db_url) as conn:
        definition = conn.execute("SELECT pg_get_functiondef('audit_write'::regproc)").fetchone()[0]
        assert "statement" not in definition
        assert conn.execute("SELECT to_regproc('audit_statements')").fetchone() == (None,)
    assert runner.up() == ["016", "017", "018", "020"]


def test_statement_matches_roll_back_to_016s_audit_write_and_run_types(empty_db_url):
    runner = Runner(empty_db_url)
    runner.up()
    with psycopg.connect(empty_db_url) as conn:
        with_matches = conn.execute("SELECT pg_get_functiondef('audit_write'::regproc)").fetchone()[0]
    assert runner.down("018") == ["020", "018"]
    assert not table_exists(empty_db_url, "statement_matches")
    assert not table_exists(empty_db_url, "statement_match_links")
    with psycopg.connect(empty_db_url) as conn:
        definition = conn.execute("SELECT pg_get_functiondef('audit_write'::regproc)").fetchone()[0]
        assert "statement_lines" in definition and "statement_match" not in definition
        check = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                             " WHERE conname = 'reconciliation_runs_run_type_check'").fetchone()[0]
        assert "external" not in check
    assert runner.up() == ["018", "020"]
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT pg_get_functiondef('audit_write'::regproc)").fetchone()[0] == with_matches
