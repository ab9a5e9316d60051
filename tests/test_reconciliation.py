import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import psycopg
import pytest
from conftest import APP_LOGIN, SYSTEM_LOGIN, add_account, with_user

from ledger_pipeline.cli import show_run
from ledger_pipeline.ledger.balance_cache import BalanceCache
from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.ledger.faults import FAULTS, inject
from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.platform.db import LedgerDatabase
from ledger_pipeline.reconciliation import CHECK_NAMES, Scope, reconcile
from ledger_pipeline.reconciliation.recorder import history, run_with_items

# What each fault must trip, and nothing else.
TRIPS = {
    "unbalanced-pair": {"transactions_balanced"},
    "negative-liability": {"liability_balances_non_negative"},
    "balance-drift": {"stored_balances_match_entries"},
    "one-sided-entry": {"transactions_balanced", "debits_equal_credits"},
    "sub-minor-amount": {"amounts_within_currency_precision"},
    "fx-leg-mismatch": {"fx_conversions_consistent"},
    "missing-rate": {"exchange_rates_available"},
    "vat-off-by-one": {"vat_matches_rate"},
    "stale-cache": {"cached_balances_match_ledger"},
}


@pytest.fixture
def demo(ledger):
    return write_demo_data(ledger, 150, users=4, days=5, seed=11)


def failed_checks(result) -> set[str]:
    return {name for name, check in result.checks.items() if not check.passed}


def mismatches(ledger, result) -> list[dict]:
    return run_with_items(ledger, result.run_id)["items"]


def test_a_clean_ledger_passes_every_check_with_the_right_totals(ledger, demo):
    result = reconcile(ledger, Scope("manual"))
    assert result.status == "passed" and failed_checks(result) == set()
    assert set(result.checks) == set(CHECK_NAMES)
    with ledger.system_context() as conn:
        debits, credits, accounts, transactions = conn.execute(
            "SELECT sum(amount) FILTER (WHERE entry_type = 'debit'), sum(amount) FILTER (WHERE entry_type = 'credit'),"
            " (SELECT count(*) FROM accounts), (SELECT count(*) FROM transactions) FROM entries"
        ).fetchone()
    row = result.row
    assert (row["status"], row["run_type"], row["error"], row["mismatch_count"]) == ("passed", "manual", None, 0)
    assert row["total_debits"] == debits == credits == row["total_credits"]
    assert (row["accounts_checked"], row["transactions_checked"]) == (accounts, transactions) == (len(demo.accounts), 150)
    assert row["completed_at"] >= row["started_at"]
    assert row["summary"]["checks"]["transactions_balanced"] == {
        "passed": True, "unexpected_count": 0, "sample": [], "error": None}
    matched = run_with_items(ledger, result.run_id, status="matched")["items"]
    assert {(i["check_name"], i["currency"]) for i in matched} == {("debits_equal_credits", "USD"),
                                                                     ("debits_equal_credits", "EUR")}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_trips_exactly_its_checks_with_the_right_items(ledger, demo, fault, monkeypatch):
    monkeypatch.setenv("LEDGER_REPORTING_CURRENCY", "USD")  # the demo reports in USD: its rates are checked
    cache = BalanceCache("redis://127.0.0.1:6379/0", prefix=f"ledger-test:{uuid.uuid4().hex}:")
    injected = inject(ledger, demo, fault, cache)
    try:
        result = reconcile(ledger, Scope("manual"), cache=cache)
    finally:
        cache.invalidate(demo.accounts.values())
        keys = list(cache.client.scan_iter(match=f"{cache.prefix}*"))
        if keys:
            cache.client.delete(*keys)
    assert result.status == "failed"
    assert failed_checks(result) == TRIPS[fault]
    items = mismatches(ledger, result)
    by_check = {}
    for item in items:
        by_check.setdefault(item["check_name"], []).append(item)
    assert set(by_check) == TRIPS[fault]
    assert result.row["mismatch_count"] == len(items)

    if fault == "unbalanced-pair":
        got = {(i["transaction_id"], i["currency"], i["difference"]) for i in by_check["transactions_balanced"]}
        assert got == {(txn, "USD", diff) for txn, diff in zip(injected["transaction_ids"], injected["imbalance"])}
    elif fault == "negative-liability":
        [item] = by_check["liability_balances_non_negative"]
        assert (item["account_id"], item["expected"], item["actual"]) == (injected["account_id"], 0, Decimal("-25"))
        assert item["details"]["account_code"] == injected["account_code"]
        assert item["details"]["owner"] == str(demo.users[1])
    elif fault == "balance-drift":
        [item] = by_check["stored_balances_match_entries"]
        assert item["account_id"] == injected["account_id"]
        assert item["actual"] - item["expected"] == item["difference"] == Decimal("13.37")
        assert item["details"]["account_code"] == injected["account_code"]
    elif fault == "one-sided-entry":
        [txn_item] = by_check["transactions_balanced"]
        assert (txn_item["transaction_id"], txn_item["currency"]) == (injected["transaction_ids"][0], "EUR")
        assert (txn_item["expected"], txn_item["actual"], txn_item["difference"]) == (42, 0, Decimal("-42"))
        [total] = by_check["debits_equal_credits"]
        assert (total["currency"], total["difference"]) == ("EUR", Decimal("-42"))
        assert result.row["total_debits"] - result.row["total_credits"] == 42
    elif fault == "missing-rate":
        [item] = by_check["exchange_rates_available"]
        assert (item["currency"], item["details"]["day"]) == ("JPY", injected["day"].isoformat())
    elif fault == "stale-cache":
        [item] = by_check["cached_balances_match_ledger"]
        assert item["details"]["key"] == injected["key"] and item["actual"] == injected["cached_balance"]
        assert item["expected"] - item["actual"] == Decimal("5.00")
    else:
        [check] = TRIPS[fault]
        assert {i["transaction_id"] for i in by_check[check]} == set(injected["transaction_ids"])


def test_two_faults_of_different_kinds_are_both_reported_in_one_run(ledger, demo):
    inject(ledger, demo, "balance-drift")
    inject(ledger, demo, "negative-liability")
    result = reconcile(ledger, Scope("manual"))
    assert failed_checks(result) == {"stored_balances_match_entries", "liability_balances_non_negative"}
    assert {i["check_name"] for i in mismatches(ledger, result)} == failed_checks(result)


def test_a_period_run_sees_only_its_window(ledger, demo):
    now = dt.datetime.now(dt.timezone.utc)
    window = (now - dt.timedelta(days=3), now - dt.timedelta(days=2))
    inject(ledger, demo, "one-sided-entry")  # written now, outside the window
    inject(ledger, demo, "unbalanced-pair")
    with ledger.system_context() as conn:
        in_window = conn.execute(
            "SELECT count(*) FROM transactions WHERE created_at >= %s AND created_at < %s", window
        ).fetchone()[0]
    assert in_window > 0

    past = reconcile(ledger, Scope("daily", *window), partition_key="some-day")
    assert past.status == "passed"
    assert (past.row["period_start"], past.row["period_end"]) == window
    assert past.row["transactions_checked"] == in_window and past.row["partition_key"] == "some-day"

    recent = reconcile(ledger, Scope("daily", now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1)))
    assert failed_checks(recent) == {"transactions_balanced", "debits_equal_credits"}


def test_a_fault_inside_a_past_window_fails_that_window_only(ledger, demo):
    now = dt.datetime.now(dt.timezone.utc)
    injected = inject(ledger, demo, "one-sided-entry")
    backdated = now - dt.timedelta(days=2, hours=12)
    with psycopg.connect(ledger.database_url()) as conn:  # the superuser owner, moving history by hand
        conn.execute("ALTER TABLE entries DISABLE TRIGGER USER")
        conn.execute("UPDATE transactions SET created_at = %s WHERE id = %s", (backdated, injected["transaction_ids"][0]))
        conn.execute("UPDATE entries SET created_at = %s WHERE transaction_id = %s", (backdated, injected["transaction_ids"][0]))
        conn.execute("ALTER TABLE entries ENABLE TRIGGER USER")
    containing = reconcile(ledger, Scope("daily", now - dt.timedelta(days=3), now - dt.timedelta(days=2)))
    assert failed_checks(containing) == {"transactions_balanced", "debits_equal_credits"}
    later = reconcile(ledger, Scope("daily", now - dt.timedelta(days=2), now - dt.timedelta(days=1)))
    assert later.status == "passed"


def test_the_quick_check_records_an_hourly_run_of_debits_equal_credits_only(ledger, demo):
    inject(ledger, demo, "balance-drift")  # not the quick check's business
    result = reconcile(ledger, Scope.quick())
    assert (result.status, result.row["run_type"]) == ("passed", "hourly")
    assert set(result.row["summary"]["checks"]) == {"debits_equal_credits"}
    inject(ledger, demo, "one-sided-entry")
    assert reconcile(ledger, Scope.quick()).status == "failed"


def test_reconciliation_through_a_system_worker_login_finds_another_users_bad_transaction(
    ledger_url, ledger, two_users
):
    # User B's unbalanced transaction, written around the posting path.
    with ledger.system_context() as conn:
        txn = conn.execute(
            "INSERT INTO transactions (transaction_code, initiated_by) VALUES ('ADJUST', %s) RETURNING id",
            (two_users.b,),
        ).fetchone()[0]
        conn.execute("INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency)"
                     " VALUES (%s, %s, 'credit', 5, 'USD')", (txn, two_users.wallet_b))
        conn.execute("UPDATE accounts SET balance = balance + 5 WHERE id = %s", (two_users.wallet_b,))
    worker = LedgerDatabase(url=with_user(ledger_url, SYSTEM_LOGIN))  # not a superuser: RLS applies
    try:
        result = reconcile(worker, Scope("manual"))
    finally:
        worker.close()
    assert result.status == "failed"
    assert {i["transaction_id"] for i in mismatches(ledger, result) if i["check_name"] == "transactions_balanced"} == {txn}


def test_a_login_that_cannot_see_everything_cannot_run_a_reconciliation(ledger_url, ledger, two_users):
    app = LedgerDatabase(url=with_user(ledger_url, APP_LOGIN))
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied to set role"):
            reconcile(app, Scope("manual"))
    finally:
        app.close()
    assert history(ledger, 10) == []  # nothing claims the ledger passed


def test_a_policy_that_narrows_sight_makes_the_run_error(ledger, ledger_url, two_users):
    with psycopg.connect(ledger_url) as conn:
        conn.execute("CREATE POLICY hide_big ON entries AS RESTRICTIVE TO ledger_system USING (amount < 60)")
    result = reconcile(ledger, Scope("manual"))
    assert result.status == "error"
    assert "entries has 1 restrictive policies that may hide rows" in result.error


def test_a_run_whose_connection_is_closed_under_it_ends_error(ledger, ledger_url, demo):
    admin = psycopg.connect(ledger_url, autocommit=True)
    admin.execute("BEGIN")
    admin.execute("LOCK TABLE entries IN ACCESS EXCLUSIVE MODE")  # the checks will queue behind this
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(result=reconcile(ledger, Scope("manual"))))
    runner.start()
    try:
        waiting = []
        for _ in range(300):
            waiting = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND pid <> pg_backend_pid()"
            ).fetchall()
            if waiting:
                break
            time.sleep(0.1)
        assert waiting, "the reconciliation never reached the ledger tables"
        for (pid,) in waiting:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        admin.execute("ROLLBACK")
        runner.join(timeout=120)
        admin.close()
    result = outcome["result"]
    assert result.status == "error"
    assert "terminat" in result.error or "closed" in result.error or "connection" in result.error
    row = run_with_items(ledger, result.run_id)
    assert row["status"] == "error" and row["completed_at"] is not None and row["items"] == []


def test_a_run_abandoned_by_a_dead_process_is_marked_error_by_the_next(ledger, ledger_url, two_users):
    from ledger_pipeline.reconciliation import recorder

    dead = psycopg.connect(ledger_url, autocommit=True)
    run_id = recorder.start(dead, Scope("manual"), None, None)
    still_alive = reconcile(ledger, Scope.quick())  # the lock is held: the run is live, not abandoned
    assert run_with_items(ledger, run_id)["status"] == "running"
    pid = dead.info.backend_pid
    dead.close()  # the process dies; its session and advisory lock go with it
    with psycopg.connect(ledger_url) as admin:  # the server ends the session a moment after the close
        for _ in range(100):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                break
            time.sleep(0.05)
    reconcile(ledger, Scope.quick())
    row = run_with_items(ledger, run_id)
    assert row["status"] == "error" and "abandoned" in row["error"]
    assert still_alive.status == "passed"


@pytest.mark.parametrize("kwargs, message", [
    (dict(run_type="weekly"), "run type must be one of"),
    (dict(run_type="manual", period_start=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)), "needs both"),
    (dict(run_type="manual", period_start=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
          period_end=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)), "ends .* before it starts"),
    (dict(run_type="manual", period_start=dt.datetime(2026, 1, 1), period_end=dt.datetime(2026, 1, 2)),
     "need a time zone"),
])
def test_bad_scopes_are_refused(kwargs, message):
    from ledger_pipeline.platform.errors import LedgerError

    with pytest.raises(LedgerError, match=message):
        Scope(**kwargs)


def test_an_entry_labelled_with_another_currency_cannot_hide_a_cross_currency_transfer(ledger, demo):
    usd, eur = demo.house("CASH", "USD"), demo.house("CASH", "EUR")
    with ledger.system_context() as conn:
        txn = conn.execute("INSERT INTO transactions (transaction_code) VALUES ('ADJUST') RETURNING id").fetchone()[0]
        for account, side in ((usd, "debit"), (eur, "credit")):
            conn.execute("INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency)"
                         " VALUES (%s, %s, %s, 100, 'USD')", (txn, account, side))
            conn.execute("UPDATE accounts SET balance = balance + balance_delta(account_type, %s, 100)"
                         " WHERE id = %s", (side, account))
    result = reconcile(ledger, Scope("manual"))
    assert failed_checks(result) == {"transactions_balanced", "debits_equal_credits"}
    items = [i for i in mismatches(ledger, result) if i["check_name"] == "transactions_balanced"]
    assert {(i["transaction_id"], i["currency"]) for i in items} == {(txn, "USD"), (txn, "EUR")}


def test_a_check_great_expectations_cannot_read_is_an_error_not_a_pass(ledger, ledger_url, demo):
    from ledger_pipeline.reconciliation import expectations

    with psycopg.connect(ledger_url) as conn:
        conn.execute("REVOKE SELECT ON reconciliation_items FROM ledger_system")
    [found] = expectations.validate(ledger.database_url(), ["debits_equal_credits"], [uuid.uuid4()]).values()
    assert found.error and "permission denied" in found.error and not found.success


def test_a_whole_ledger_run_is_one_period_that_judges_every_account_once(ledger, demo):
    """The checks read a whole-ledger run's totals as one period: each account in it once, whatever
    the currencies its entries are labelled with, and the accounts without entries too."""
    cash, wallet = demo.house("CASH", "EUR"), demo.wallet(demo.users[0], "EUR")
    with ledger.system_context() as conn:
        idle = conn.execute("INSERT INTO accounts (code, name, account_type, currency, balance)"
                            " VALUES ('IDLE-EUR', 'No entries', 'asset', 'EUR', 7) RETURNING id").fetchone()[0]
        overdraft = conn.execute("SELECT balance + 30 FROM accounts WHERE id = %s", (wallet,)).fetchone()[0]
        txn = conn.execute("INSERT INTO transactions (transaction_code) VALUES ('ADJUST') RETURNING id").fetchone()[0]
        # Both legs in EUR accounts, both labelled twice: the transaction balances in EUR, and each
        # account has entries under two labels. The wallet is overdrawn, cash carries amounts finer
        # than a cent, and cash's stored balance is left behind by 1.
        for account, side, amount, label in ((wallet, "debit", overdraft, "EUR"), (wallet, "debit", 1, "USD"),
                                             (cash, "credit", overdraft + Decimal("0.995"), "EUR"),
                                             (cash, "credit", Decimal("0.005"), "USD")):
            conn.execute("INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency)"
                         " VALUES (%s, %s, %s, %s, %s)", (txn, account, side, amount, label))
            conn.execute("UPDATE accounts SET balance = balance + balance_delta(account_type, %s, %s)"
                         " WHERE id = %s", (side, amount - (1 if account == cash and label == "EUR" else 0), account))

    def found(result, check):
        return sorted(((i["account_id"], i["expected"], i["actual"], i["details"].get("as_of"))
                       for i in mismatches(ledger, result) if i["check_name"] == check), key=str)

    for scope in (Scope("manual"), Scope("hourly", checks=("liability_balances_non_negative",
                                                            "stored_balances_match_entries",
                                                            "amounts_within_currency_precision"))):
        result = reconcile(ledger, scope)
        assert failed_checks(result) == {"liability_balances_non_negative", "stored_balances_match_entries",
                                         "amounts_within_currency_precision"}
        with ledger.system_context() as conn:
            computed, stored = conn.execute(
                "SELECT sum(balance_delta(a.account_type, e.entry_type, e.amount)), a.balance FROM entries e"
                " JOIN accounts a ON a.id = e.account_id WHERE a.id = %s GROUP BY a.balance", (cash,)).fetchone()
        assert stored - computed == 1
        assert found(result, "stored_balances_match_entries") == sorted(
            [(idle, 0, 7, "infinity"), (cash, computed, stored, "infinity")], key=str)
        [(account, _, balance, as_of)] = found(result, "liability_balances_non_negative")
        assert (account, balance, as_of) == (wallet, Decimal("-31"), "infinity")
        precision = [i for i in mismatches(ledger, result) if i["check_name"] == "amounts_within_currency_precision"]
        assert sorted(i["actual"] for i in precision) == [Decimal("0.005"), overdraft + Decimal("0.995")]

    # A period run judges the accounts its entries touched: not the one without entries.
    now = dt.datetime.now(dt.timezone.utc)
    day = reconcile(ledger, Scope("daily", now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1)))
    assert [account for account, *_ in found(day, "stored_balances_match_entries")] == [cash]


def test_rates_are_checked_only_for_a_ledger_that_reports_in_one_currency(ledger, two_users, monkeypatch, capsys):
    """EUR and USD accounts and no rates at all: a ledger that does not report in one currency is
    not at fault for it; once LEDGER_REPORTING_CURRENCY says it does, every currency's day wants one."""
    with ledger.system_context() as conn:
        eur_cash, eur_wallet = add_account(conn, "CASH-EUR", "asset", currency="EUR"), add_account(
            conn, "WALLET-A-EUR", "liability", two_users.a, currency="EUR")
        post_transaction(conn, "DEPOSIT", [Entry(eur_cash, "debit", Decimal("5.00")),
                                           Entry(eur_wallet, "credit", Decimal("5.00"))])
    monkeypatch.delenv("LEDGER_REPORTING_CURRENCY", raising=False)
    result = reconcile(ledger, Scope("manual"))
    assert result.status == "passed"
    skipped = result.checks["exchange_rates_available"].skipped
    assert skipped.startswith("no reporting currency configured (LEDGER_REPORTING_CURRENCY is unset)")
    assert result.row["summary"]["checks"]["exchange_rates_available"]["skipped"] == skipped
    assert mismatches(ledger, result) == []

    monkeypatch.setenv("LEDGER_REPORTING_CURRENCY", "USD")
    configured = reconcile(ledger, Scope("manual"))
    assert failed_checks(configured) == {"exchange_rates_available"}
    [item] = mismatches(ledger, configured)
    assert item["currency"] == "EUR" and configured.checks["exchange_rates_available"].skipped is None
    show_run(ledger, configured.run_id, as_json=False)
    shown = capsys.readouterr().out
    assert f"exchange_rates_available         EUR on {item['details']['day']}  EUR  expected 1" in shown
