from ledger_pipeline.ledger.demo import ledger_is_empty, write_demo_data


def test_demo_ledger_is_plausible_and_consistent(ledger):
    assert ledger_is_empty(ledger)
    demo = write_demo_data(ledger, 300, users=4, days=3, seed=7)
    assert len(demo.users) == 4 and not ledger_is_empty(ledger)
    with ledger.system_context() as conn:
        kinds = dict(conn.execute("SELECT transaction_code, count(*) FROM transactions GROUP BY 1"))
        currencies = {c for (c,) in conn.execute("SELECT DISTINCT currency FROM entries")}
        owners = conn.execute("SELECT count(DISTINCT user_id) FROM accounts WHERE account_type = 'liability'").fetchone()[0]
        drift = conn.execute(
            "SELECT count(*) FROM accounts a"
            " WHERE a.balance <> (SELECT coalesce(sum(balance_delta(a.account_type, e.entry_type, e.amount)), 0)"
            "                     FROM entries e WHERE e.account_id = a.id)"
        ).fetchone()[0]
        negative_wallets = conn.execute(
            "SELECT count(*) FROM accounts WHERE account_type = 'liability' AND balance < 0"
        ).fetchone()[0]
        spread = conn.execute("SELECT max(created_at) - min(created_at) FROM transactions").fetchone()[0]
    assert sum(kinds.values()) == 300 and set(kinds) >= {"DEPOSIT", "TRANSFER", "FEE", "WITHDRAW", "FX_CONVERSION",
                                                                "FEE_VAT_FR", "FEE_VAT_GB"}
    assert currencies == {"USD", "EUR"} and owners == 4
    assert drift == 0 and negative_wallets == 0
    assert spread.days >= 2
