"""The currencies table comes from ISO 4217 data, and the ledger refers to it."""

import psycopg
import pytest

from ledger_pipeline.ledger.currencies import iso4217_rows


def test_migration_rows_are_the_iso4217_packages(ledger):
    with ledger.system_context() as conn:
        rows = conn.execute("SELECT code, name, minor_units FROM currencies ORDER BY code").fetchall()
    assert [tuple(r) for r in rows] == iso4217_rows()
    assert ("JPY", "Yen", 0) in rows and ("KWD", "Kuwaiti Dinar", 3) in rows


def test_accounts_must_use_a_known_currency(ledger):
    with pytest.raises(psycopg.errors.ForeignKeyViolation), ledger.system_context() as conn:
        conn.execute("INSERT INTO accounts (code, name, account_type, currency) VALUES ('X', 'X', 'asset', 'ZZZ')")
