import json
import uuid

import psycopg
import pytest
from test_cli import run

RUNS = "SELECT count(*) FROM reconciliation_runs"


def count_runs(url) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(RUNS).fetchone()[0]


@pytest.fixture
def demo_url(ledger_url):
    assert run("demo-data", "--transactions", "60", "--seed", "3", url=ledger_url).returncode == 0
    return ledger_url


def test_exit_0_when_passed_1_when_failed_and_readable_mismatches(demo_url):
    passed = run("reconcile", url=demo_url)
    assert passed.returncode == 0, passed.stderr
    assert "PASSED" in passed.stdout and "stored_balances_match_entries" in passed.stdout

    injected = run("demo-data", "--transactions", "0", "--seed", "4", "--fault", "balance-drift", url=demo_url)
    assert injected.returncode == 0, injected.stderr
    code = injected.stdout.split("account code ")[1].split(";")[0]
    failed = run("reconcile", url=demo_url)
    assert failed.returncode == 1
    assert "FAILED" in failed.stdout
    [line] = [l for l in failed.stdout.splitlines() if l.strip().startswith("stored_balances_match_entries ") and code in l]
    assert "difference 13.3700" in line


def test_json_history_and_show(demo_url):
    run("demo-data", "--transactions", "0", "--seed", "5", "--fault", "one-sided-entry", url=demo_url)
    result = run("reconcile", "--type", "hourly", "--json", url=demo_url)
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert (body["run_type"], body["status"], body["mismatch_count"]) == ("hourly", "failed", 1)
    assert body["items"][0]["check_name"] == "debits_equal_credits" and body["items"][0]["difference"] == "-42.0000"
    assert body["checks"]["debits_equal_credits"]["passed"] is False

    history = run("reconcile", "history", "--limit", "5", "--json", url=demo_url)
    assert history.returncode == 0 and [r["id"] for r in json.loads(history.stdout)] == [body["id"]]
    table = run("reconcile", "history", url=demo_url)
    assert body["id"] in table.stdout and "hourly" in table.stdout

    shown = run("reconcile", "show", body["id"], "--json", url=demo_url)
    assert shown.returncode == 0 and json.loads(shown.stdout)["items"] == body["items"]
    assert "debits_equal_credits" in run("reconcile", "show", body["id"], url=demo_url).stdout


def test_a_period_run_from_the_command_line(demo_url):
    result = run("reconcile", "--type", "daily", "--period-start", "2000-01-01", "--period-end", "2000-01-02T00:00:00Z",
                 "--json", url=demo_url)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert (body["period_start"], body["period_end"]) == ("2000-01-01T00:00:00+00:00", "2000-01-02T00:00:00+00:00")
    assert body["transactions_checked"] == 0


@pytest.mark.parametrize("args, message", [
    (["reconcile", "show", str(uuid.uuid4())], "no reconciliation run with id"),
    (["reconcile", "show", "not-a-uuid"], "not a run id"),
    (["reconcile", "--period-start", "yesterday", "--period-end", "2026-01-01"], "not a timestamp: 'yesterday'"),
    (["reconcile", "--period-start", "2026-01-02", "--period-end", "2026-01-01"], "before it starts"),
    (["reconcile", "--period-start", "2026-01-02"], "needs both"),
    (["reconcile", "--type", "hourly", "--period-start", "2026-01-01", "--period-end", "2026-01-02"], "takes no period"),
    (["reconcile", "--type", "weekly"], "invalid choice"),
    (["reconcile", "history", "--limit", "0"], "at least 1"),
    (["demo-data", "--fault", "gremlins"], "invalid choice"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(demo_url, args, message):
    before = count_runs(demo_url)
    result = run(*args, url=demo_url)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert count_runs(demo_url) == before


def test_an_unreachable_database_exits_2():
    result = run("reconcile", url="postgresql://postgres@127.0.0.1:1/ledger")
    assert result.returncode == 2
    assert "cannot connect to the ledger database" in result.stderr
