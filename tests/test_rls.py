import uuid
from decimal import Decimal

import psycopg
import pytest
from conftest import add_account

from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.platform.db import LedgerDatabase
from ledger_pipeline.platform.errors import LedgerError


def visible(conn) -> dict[str, set]:
    return {
        "accounts": {r[0] for r in conn.execute("SELECT id FROM accounts")},
        "transactions": {r[0] for r in conn.execute("SELECT id FROM transactions")},
        "entries_accounts": {r[0] for r in conn.execute("SELECT account_id FROM entries")},
    }


def own_rows(users, who: str) -> dict[str, set]:
    wallet = users.wallet_a if who == "a" else users.wallet_b
    deposit = users.deposit_a if who == "a" else users.deposit_b
    return {"accounts": {wallet}, "transactions": {deposit}, "entries_accounts": {wallet}}


def test_a_user_sees_only_their_own_rows(app_ledger, two_users):
    with app_ledger.user_context(two_users.a) as conn:
        assert visible(conn) == own_rows(two_users, "a")
    with app_ledger.user_context(two_users.b) as conn:
        assert visible(conn) == own_rows(two_users, "b")


def test_a_superuser_connection_in_user_context_is_still_filtered(ledger, two_users):
    with ledger.user_context(two_users.a) as conn:
        assert visible(conn) == own_rows(two_users, "a")


# Every way the application login might widen what it sees, and whether PostgreSQL refuses it or
# lets it through to no effect.
@pytest.mark.parametrize("attempt, refused", [
    ("SET app.bypass_rls = 'true'", False),
    ("SET LOCAL app.bypass_rls = 'on'", False),
    ("SELECT set_config('app.bypass_rls', 'true', false)", False),
    ("RESET ROLE", False),
    ("SELECT clear_context()", False),
    ("SELECT set_system_context()", True),
    ("SET ROLE ledger_system", True),
    ("SET LOCAL ROLE ledger_system", True),
    ("SELECT set_config('role', 'ledger_system', true)", True),
])
def test_the_application_login_cannot_widen_what_it_sees(app_ledger, two_users, attempt, refused):
    with app_ledger.user_context(two_users.a) as conn:
        if refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied to set role"):
                with conn.transaction():
                    conn.execute(attempt)
        else:
            conn.execute(attempt)
        seen = visible(conn)
    # Refused, the user context stands; let through, the login has left it and falls back to nothing
    # at all, never to everything.
    assert seen == own_rows(two_users, "a") if refused else seen["accounts"] <= {two_users.wallet_a}
    assert two_users.wallet_b not in seen["accounts"] and two_users.deposit_b not in seen["transactions"]


def test_system_context_sees_everything(system_ledger, two_users):
    with system_ledger.system_context() as conn:
        seen = visible(conn)
    assert seen["accounts"] == {two_users.cash, two_users.wallet_a, two_users.wallet_b}
    assert seen["transactions"] == {two_users.deposit_a, two_users.deposit_b}


def test_the_application_login_gets_a_clear_error_for_system_context(app_ledger, two_users):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with app_ledger.system_context():
            pass


def test_no_context_sees_nothing(app_ledger, two_users):
    with app_ledger.connect() as conn:
        assert visible(conn) == {"accounts": set(), "transactions": set(), "entries_accounts": set()}


def test_user_context_does_not_leak_into_the_next_transaction_on_a_pooled_connection(app_ledger, two_users):
    single = LedgerDatabase(url=app_ledger.url, max_connections=1)
    with single.user_context(two_users.a, client_ip="203.0.113.9") as conn:
        first = conn.info.backend_pid
    with single.pool().connection() as conn:
        assert conn.info.backend_pid == first
        assert conn.execute(
            "SELECT current_user, current_setting('app.user_id', true), current_setting('app.client_ip', true)"
        ).fetchone() == ("ledger_test_app", "", "")
        assert visible(conn)["accounts"] == set()
    single.close()


def test_a_user_cannot_write_into_another_users_account(app_ledger, two_users):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        with app_ledger.user_context(two_users.a) as conn:
            conn.execute(
                "INSERT INTO accounts (user_id, code, name, account_type, currency)"
                " VALUES (%s, 'STOLEN', 'x', 'liability', 'USD')",
                (two_users.b,),
            )


def test_bad_context_arguments_are_refused_before_the_database(app_ledger):
    with pytest.raises(LedgerError, match="user id must be a UUID"):
        with app_ledger.user_context("alice"):
            pass
    with pytest.raises(LedgerError, match="client ip must be an IP address"):
        with app_ledger.user_context("00000000-0000-0000-0000-000000000001", client_ip="not-an-ip"):
            pass


@pytest.mark.parametrize("statement", [
    "UPDATE accounts SET balance = 1000000 WHERE id = %(wallet)s",
    "UPDATE transactions SET description = 'forged' WHERE id = %(deposit)s",
    "UPDATE entries SET amount = 1 WHERE account_id = %(wallet)s",
    "DELETE FROM entries WHERE account_id = %(wallet)s",
    "INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency)"
    " VALUES (%(deposit)s, %(wallet)s, 'credit', 1000, 'USD')",
    "INSERT INTO transactions (transaction_code, initiated_by) VALUES ('ADJUST', %(user)s)",
    "SELECT post_transaction('DEPOSIT', '[]'::jsonb)",
])
def test_the_application_cannot_write_the_ledger_even_for_its_own_user(app_ledger, ledger, two_users, statement):
    params = {"wallet": two_users.wallet_a, "deposit": two_users.deposit_a, "user": two_users.a}
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        with app_ledger.user_context(two_users.a) as conn:
            conn.execute(statement, params)
    with ledger.system_context() as conn:
        assert conn.execute("SELECT balance FROM accounts WHERE id = %s", (two_users.wallet_a,)).fetchone()[0] == 100


def test_a_user_may_open_an_empty_account_of_their_own(app_ledger, two_users):
    with app_ledger.user_context(two_users.a) as conn:
        conn.execute("INSERT INTO accounts (user_id, code, name, account_type, currency)"
                     " VALUES (%s, 'A-EUR', 'A (EUR)', 'liability', 'EUR')", (two_users.a,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        with app_ledger.user_context(two_users.a) as conn:
            conn.execute("INSERT INTO accounts (user_id, code, name, account_type, currency, balance)"
                         " VALUES (%s, 'A-GBP', 'A (GBP)', 'liability', 'GBP', 500)", (two_users.a,))


# Migration 006's owner policies, written out as filters: migration 008 reformulated them.
SEEN_UNDER_006 = {
    "accounts": "SELECT id FROM accounts WHERE user_id = %(u)s",
    "transactions": "SELECT id FROM transactions WHERE initiated_by = %(u)s OR id IN"
                    " (SELECT e.transaction_id FROM entries e JOIN accounts a ON a.id = e.account_id"
                    "  WHERE a.user_id = %(u)s)",
    "entries": "SELECT id FROM entries WHERE account_id IN (SELECT id FROM accounts WHERE user_id = %(u)s)",
}


def test_users_see_exactly_the_rows_migration_006_defined(ledger, app_ledger):
    a, b, c, d, nobody = (uuid.uuid4() for _ in range(5))
    with ledger.system_context() as conn:
        cash, cash_eur = add_account(conn, "CASH-USD", "asset"), add_account(conn, "CASH-EUR", "asset", currency="EUR")
        wallet = {u: add_account(conn, f"W-{u.hex[:8]}", "liability", u) for u in (a, b, c, d)}
        a_eur = add_account(conn, "W-A-EUR", "liability", a, "EUR")
        posted = [
            post_transaction(conn, "TRANSFER", [Entry(source, "debit", Decimal(amount)),
                                                Entry(target, "credit", Decimal(amount))], initiated_by=initiated_by)
            for source, target, initiated_by, amount in [
                (cash, wallet[a], a, 10), (cash, wallet[b], b, 10), (cash, wallet[d], None, 10),
                (wallet[b], wallet[c], a, 3),  # initiated by a, touching none of a's accounts
                (cash_eur, a_eur, None, 5),  # a's second account, initiated by no one
                (wallet[c], wallet[d], c, 1),
            ]
        ]
    seen = {}
    for user in (a, b, c, d, nobody):
        with ledger.system_context() as conn:
            expected = {table: {r[0] for r in conn.execute(query, {"u": user})} for table, query in SEEN_UNDER_006.items()}
        with app_ledger.user_context(user) as conn:
            seen[user] = {table: {r[0] for r in conn.execute(f"SELECT id FROM {table}")} for table in SEEN_UNDER_006}
        assert seen[user] == expected
    assert seen[a]["transactions"] == {posted[0], posted[3], posted[4]} and len(seen[a]["entries"]) == 2
    assert seen[nobody] == {"accounts": set(), "transactions": set(), "entries": set()}
