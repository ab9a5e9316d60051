import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "ledger-pipeline")


def run(*args, url=None, env_extra=None, timeout=180):
    env = {k: v for k, v in os.environ.items() if k != "LEDGER_DATABASE_URL"}
    if url:
        env["LEDGER_DATABASE_URL"] = url
    env.update(env_extra or {})
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_setup_migrates_loads_demo_data_once_and_shows_status(empty_db_url, tmp_path):
    inbox = {"LEDGER_STATEMENTS_INBOX": str(tmp_path / "inbox")}
    first = run("setup", "--transactions", "400", url=empty_db_url, env_extra=inbox)
    assert first.returncode == 0, first.stderr
    assert "migrations applied now: 001, 002, 006, 007, 008, 009, 010, 011, 012, 013, 014, 015, 016, 017, 018, 019, 020, 021" in first.stdout
    assert "the ledger was empty: wrote 400 demo transactions" in first.stdout
    # The demo bank's statements, for the inbox sensor: camt.053 of the EUR account, MT940 of the USD one.
    assert [p.suffix for p in sorted((tmp_path / "inbox").iterdir())] == [".xml", ".mt940"]
    again = run("setup", url=empty_db_url, env_extra=inbox)
    assert again.returncode == 0, again.stderr
    assert "migrations applied now: none" in again.stdout and "demo" not in again.stdout
    assert "006      production_security      applied" in again.stdout


def test_migrate_up_down_status(empty_db_url):
    assert run("migrate", "up", url=empty_db_url).stdout.strip() == "applied: 001, 002, 006, 007, 008, 009, 010, 011, 012, 013, 014, 015, 016, 017, 018, 019, 020, 021"
    assert run("migrate", "up", url=empty_db_url).stdout.strip() == "nothing to apply: the schema is up to date"
    assert run("migrate", "down", "006", url=empty_db_url).stdout.strip() == "rolled back: 021, 020, 019, 018, 017, 016, 015, 014, 013, 012, 011, 010, 009, 008, 007, 006"
    status = run("migrate", "status", url=empty_db_url).stdout
    assert "006      production_security      pending" in status


def test_the_embedded_server_is_the_default(tmp_path):
    env = {"LEDGER_EMBEDDED_DIR": str(tmp_path / "pg")}
    up = run("migrate", "up", env_extra=env)
    assert up.returncode == 0, up.stderr
    status = run("migrate", "status", env_extra=env)
    assert "006      production_security      applied" in status.stdout
    assert (tmp_path / "pg" / "data" / "PG_VERSION").read_text().startswith("18")


@pytest.mark.parametrize("args, url, message", [
    (["migrate", "status"], "mysql://root@localhost/ledger", "LEDGER_DATABASE_URL must be a postgresql:// URL"),
    (["migrate", "status"], "postgresql://postgres@127.0.0.1:5432/x?bogus=1",
     "LEDGER_DATABASE_URL is not a valid PostgreSQL URL"),
    (["migrate", "status"], "postgresql://postgres@127.0.0.1:1/ledger", "cannot connect to the ledger database"),
    (["migrate", "down", "099"], None, "unknown migration version '099'"),
    (["reconcile", "history"], None, "the ledger database is not migrated (run `ledger-pipeline migrate up`)"),
    (["migrate", "down", "006"], None, "nothing to roll back: migration 006 is not applied"),
    (["demo-data", "--transactions", "-1"], None, "expected a number of at least 0"),
    (["setup", "--transactions", "0"], None, "expected a number of at least 1"),
    (["demo-data", "--transactions", "ten"], None, "expected a whole number"),
])
def test_bad_input_gets_one_clear_line_and_exit_2(empty_db_url, args, url, message):
    result = run(*args, url=url or empty_db_url)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.strip().splitlines()[-1].count("error") >= 1
    assert "Traceback" not in result.stderr


def test_rates_load_names_the_bad_row_and_loads_nothing(ledger_url, tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("base,quote,rate,as_of,source\nEUR,USD,1.08,2026-11-26T00:00:00Z,ecb\nEUR,USD,abc,2026-11-27T00:00:00Z,ecb\n")
    bad = run("rates", "load", str(path), url=ledger_url)
    assert bad.returncode == 2 and "line 3: rate is not a number: 'abc'" in bad.stderr and "nothing loaded" in bad.stderr
    path.write_text("base,quote,rate,as_of,source\nEUR,USD,1.08,2026-11-26T00:00:00Z,ecb\n")
    good = run("rates", "load", str(path), url=ledger_url)
    assert good.returncode == 0 and good.stdout.strip() == f"loaded 1 exchange rates from {path}"
