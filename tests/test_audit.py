
import psycopg
import pytest
from conftest import APP_LOGIN, SYSTEM_LOGIN, add_account, with_user


def audit_rows(ledger, since: int = 0) -> list[dict]:
    with ledger.system_context() as conn:
        conn.row_factory = psycopg.rows.dict_row
        return conn.execute(
            "SELECT seq, table_name, operation, record_id, user_id, host(ip_address) AS ip,"
            " old_data, new_data, db_role, db_login FROM audit_log WHERE seq > %s ORDER BY seq",
            (since,),
        ).fetchall()


def last_seq(ledger) -> int:
    with ledger.system_context() as conn:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]


def test_every_change_to_the_three_tables_is_audited_with_user_and_ip(app_ledger, ledger, two_users):
    before = last_seq(ledger)
    user = two_users.a
    with app_ledger.user_context(user, client_ip="198.51.100.7") as conn:
        savings = add_account(conn, "SAVINGS-A", "liability", user)
    with ledger.system_context(client_ip="2001:db8::1", on_behalf_of=user) as conn:
        conn.execute("UPDATE accounts SET name = 'Savings' WHERE id = %s", (savings,))
        txn = conn.execute(
            "INSERT INTO transactions (transaction_code, initiated_by, description) VALUES ('ADJUST', %s, 'x')"
            " RETURNING id", (user,)
        ).fetchone()[0]
        conn.execute("UPDATE transactions SET description = 'y' WHERE id = %s", (txn,))
        entry = conn.execute(
            "INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency)"
            " VALUES (%s, %s, 'credit', 5, 'USD') RETURNING id", (txn, savings)
        ).fetchone()[0]
        conn.execute("UPDATE entries SET amount = 6 WHERE id = %s", (entry,))
    with ledger.system_context(client_ip="192.0.2.1") as conn:
        conn.execute("DELETE FROM entries WHERE id = %s", (entry,))
        conn.execute("DELETE FROM transactions WHERE id = %s", (txn,))
        conn.execute("DELETE FROM accounts WHERE id = %s", (savings,))

    rows = audit_rows(ledger, before)
    assert [(r["table_name"], r["operation"], r["record_id"]) for r in rows] == [
        ("accounts", "INSERT", savings), ("accounts", "UPDATE", savings),
        ("transactions", "INSERT", txn), ("transactions", "UPDATE", txn),
        ("entries", "INSERT", entry), ("entries", "UPDATE", entry),
        ("entries", "DELETE", entry), ("transactions", "DELETE", txn), ("accounts", "DELETE", savings),
    ]
    who = [(r["user_id"], r["ip"], r["db_role"]) for r in rows]
    assert who[0] == (user, "198.51.100.7", "ledger_app")
    assert set(who[1:6]) == {(user, "2001:db8::1", "ledger_system")}
    assert set(who[6:]) == {(None, "192.0.2.1", "ledger_system")}
    assert rows[0]["db_login"] == APP_LOGIN and rows[1]["db_login"] == ledger.connect().info.user

    insert, update = rows[0], rows[1]
    assert insert["old_data"] is None and insert["new_data"]["code"] == "SAVINGS-A"
    assert update["old_data"]["name"] == "SAVINGS-A" and update["new_data"]["name"] == "Savings"
    entry_update, entry_delete = rows[5], rows[6]
    assert entry_update["old_data"]["amount"] == 5 and entry_update["new_data"]["amount"] == 6
    assert entry_delete["new_data"] is None and entry_delete["old_data"]["id"] == str(entry)


def test_a_trigger_on_another_table_cannot_forge_audit_rows(ledger_url, ledger, two_users):
    before = audit_rows(ledger)
    with psycopg.connect(with_user(ledger_url, APP_LOGIN)) as conn:
        conn.execute("CREATE TEMP TABLE transactions (id uuid)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for function"):
            conn.execute("CREATE TRIGGER forge AFTER INSERT ON pg_temp.transactions"
                         " FOR EACH ROW EXECUTE FUNCTION public.audit_transactions()")
    with psycopg.connect(ledger_url) as conn:  # even the owner's trigger on another table is refused
        conn.execute("CREATE TABLE decoy (id uuid)")
        conn.execute("CREATE TRIGGER forge AFTER INSERT ON decoy FOR EACH ROW EXECUTE FUNCTION audit_transactions()")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="audit triggers belong on"):
            conn.execute("INSERT INTO decoy VALUES (%s)", (two_users.deposit_a,))
    assert audit_rows(ledger) == before


def test_the_client_address_falls_back_to_the_connection_peer(ledger):
    before = last_seq(ledger)
    with ledger.system_context() as conn:
        add_account(conn, "HOUSE-X", "equity")
        peer = conn.execute("SELECT host(inet_client_addr())").fetchone()[0]
    assert [r["ip"] for r in audit_rows(ledger, before)] == [peer]


@pytest.mark.parametrize("login", [APP_LOGIN, SYSTEM_LOGIN])
@pytest.mark.parametrize("statement, error", [
    ("UPDATE audit_log SET user_id = NULL", "Audit log is immutable|permission denied"),
    ("DELETE FROM audit_log", "Audit log is immutable|permission denied"),
    ("TRUNCATE audit_log", "Audit log is immutable|permission denied"),
    ("INSERT INTO audit_log (table_name, operation, db_role) VALUES ('accounts', 'INSERT', 'x')",
     "permission denied"),
    ("SELECT audit_write('accounts'::regclass, 'INSERT', NULL, '{}')", "permission denied"),
])
def test_the_audit_log_cannot_be_changed(ledger_url, ledger, two_users, login, statement, error):
    before = audit_rows(ledger)
    assert before
    with psycopg.connect(with_user(ledger_url, login)) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=error):
            conn.execute(statement)
    assert audit_rows(ledger) == before


def test_the_superuser_gets_the_immutable_message(ledger_url, two_users):
    with psycopg.connect(ledger_url) as conn:
        for statement in ("UPDATE audit_log SET user_id = NULL", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="^Audit log is immutable"):
                with conn.transaction():
                    conn.execute(statement)


@pytest.mark.parametrize("table", ["accounts", "transactions", "entries"])
def test_truncating_an_audited_table_is_refused(ledger_url, two_users, table):
    with psycopg.connect(ledger_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="would bypass the audit log"):
            conn.execute(f"TRUNCATE {table} CASCADE")
