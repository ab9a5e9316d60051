"""The hot-balance cache on real Redis (127.0.0.1:6379, a unique key prefix per test) and the
check cached_balances_match_ledger."""

import uuid
from decimal import Decimal

import pytest

from ledger_pipeline.ledger.balance_cache import BalanceCache, posting
from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.reconciliation import Scope, reconcile

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def cache():
    cache = BalanceCache(REDIS_URL, prefix=f"ledger-test:{uuid.uuid4().hex}:")
    yield cache
    keys = list(cache.client.scan_iter(match=f"{cache.prefix}*"))
    if keys:
        cache.client.delete(*keys)


def deposit(two_users, amount="5.00"):
    return [Entry(two_users.cash, "debit", Decimal(amount)), Entry(two_users.wallet_a, "credit", Decimal(amount))]


def test_reads_through_and_a_posting_invalidates_after_it_commits(ledger, two_users, cache):
    assert cache.balance(ledger, two_users.wallet_a) == Decimal(100)
    assert cache.cached(two_users.wallet_a) == Decimal(100)
    assert 0 < cache.client.ttl(cache.balance_key(two_users.wallet_a)) <= 300
    with posting(ledger, cache) as batch:
        batch.post("DEPOSIT", deposit(two_users))
        assert cache.cached(two_users.wallet_a) == Decimal(100)  # not committed yet: still the truth
    assert cache.cached(two_users.wallet_a) is None
    assert cache.balance(ledger, two_users.wallet_a) == Decimal("105.00")


def test_a_slow_reader_never_writes_back_a_balance_older_than_an_invalidation(ledger, two_users, cache):
    class SlowReader(BalanceCache):
        """Between reading the ledger and writing the cache, a posting commits and invalidates."""

        def populate(self, account_id, balance, seen_version):
            with posting(ledger, cache) as batch:
                batch.post("DEPOSIT", deposit(two_users))
            return super().populate(account_id, balance, seen_version)

    slow = SlowReader(REDIS_URL, prefix=cache.prefix)
    assert slow.balance(ledger, two_users.wallet_a) == Decimal(100)  # what it read, returned to its caller
    assert cache.cached(two_users.wallet_a) is None  # but not cached: its version had moved
    assert cache.balance(ledger, two_users.wallet_a) == Decimal("105.00")

    # The other order: the slow write lands first, and the invalidation after the commit removes it.
    seen = cache.version(two_users.wallet_b)
    with posting(ledger, cache) as batch:
        batch.post("DEPOSIT", [Entry(two_users.cash, "debit", Decimal(1)), Entry(two_users.wallet_b, "credit", Decimal(1))])
        assert cache.populate(two_users.wallet_b, Decimal(50), seen)
    assert cache.cached(two_users.wallet_b) is None
    assert not cache.populate(two_users.wallet_b, Decimal(50), seen)


def test_a_cached_balance_left_stale_after_a_posting_is_caught(ledger, two_users, cache):
    cache.balance(ledger, two_users.wallet_a)
    cache.balance(ledger, two_users.wallet_b)
    assert reconcile(ledger, Scope("manual"), cache=cache).status == "passed"
    with ledger.system_context() as conn:  # posted around the cache: no invalidation
        post_transaction(conn, "DEPOSIT", deposit(two_users, "7.50"))
    result = reconcile(ledger, Scope("manual"), cache=cache)
    assert result.status == "failed"
    assert {n for n, c in result.checks.items() if not c.passed} == {"cached_balances_match_ledger"}
    with ledger.system_context() as conn:
        rows = conn.execute(
            "SELECT account_id, expected, actual, details ->> 'key' FROM reconciliation_items"
            " WHERE run_id = %s AND check_name = 'cached_balances_match_ledger'", (result.run_id,)).fetchall()
    assert rows == [(two_users.wallet_a, Decimal("107.50"), Decimal(100), cache.balance_key(two_users.wallet_a))]


def test_a_posting_whose_invalidation_lands_during_the_run_is_not_reported(ledger, two_users, cache):
    class InvalidatedDuringTheRun(BalanceCache):
        """The cache as a run reads it just after a posting committed, its invalidation on the way."""

        def entries(self, batch=1000):
            yield from super().entries(batch)
            self.invalidate([two_users.wallet_a])

    cache.balance(ledger, two_users.wallet_a)
    with ledger.system_context() as conn:
        post_transaction(conn, "DEPOSIT", deposit(two_users))
    racing = InvalidatedDuringTheRun(REDIS_URL, prefix=cache.prefix)
    result = reconcile(ledger, Scope("manual"), cache=racing)
    assert result.status == "passed", result.checks["cached_balances_match_ledger"]
    assert cache.cached(two_users.wallet_a) is None


def test_without_a_cache_the_check_says_it_was_skipped(ledger, two_users):
    result = reconcile(ledger, Scope("manual"))
    check = result.checks["cached_balances_match_ledger"]
    assert result.status == "passed" and check.passed and check.unexpected_count == 0
    assert check.skipped == "no cache configured (LEDGER_REDIS_URL is unset)"
    assert result.row["summary"]["checks"]["cached_balances_match_ledger"]["skipped"] == check.skipped
