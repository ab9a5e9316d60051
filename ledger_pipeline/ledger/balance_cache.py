"""The hot-balance cache: account balances read through Redis, 5 minutes to live, invalidated by
every posting that touches the account once it commits.

A slow reader must never write back a balance older than an invalidation. Each account has a
version counter in Redis that every invalidation bumps; a reader notes the version before it
reads PostgreSQL and writes its balance only if the version is still the one it noted, checked
and written in one Lua script (atomic in Redis). A reader that read the ledger before a posting
committed therefore either wrote before the posting's invalidation (which then deletes it) or
finds the version moved and writes nothing.

Invalidation happens in the posting path after the commit (``posting``), not in a trigger:
PostgreSQL has no after-commit hook, and invalidating before the commit would let a reader cache
the old balance again before the new one is visible. A writer that bypasses ``posting`` leaves
the cache stale for up to the TTL; the check cached_balances_match_ledger finds such keys.
"""

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

import psycopg
import redis

from ..platform import settings
from ..platform.db import LedgerDatabase
from .posting import PostingError, post_transaction

TTL_SECONDS = 300
VERSION_TTL_SECONDS = 7 * 24 * 3600  # far beyond any reader's pause, so a version never restarts under one
DEFAULT_PREFIX = "ledger:"

# KEYS: balance key, version key; ARGV: the version the reader saw ('' for none), value, TTL.
_POPULATE = """
local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
"""
# KEYS: version key, balance key.
_INVALIDATE = """
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
redis.call('DEL', KEYS[2])
return 1
"""


@dataclass(frozen=True)
class CachedBalance:
    key: str
    account_id: Optional[uuid.UUID]  # None: a key that names no account
    balance: Optional[Decimal]
    version: Optional[int]


class BalanceCache:
    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX, ttl_seconds: int = TTL_SECONDS):
        self.client = redis.Redis.from_url(url)
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._populate = self.client.register_script(_POPULATE)
        self._invalidate = self.client.register_script(_INVALIDATE)

    @classmethod
    def from_settings(cls) -> Optional["BalanceCache"]:
        """The cache LEDGER_REDIS_URL names, or None: no cache, and nothing else changes."""
        url = settings.redis_url()
        return cls(url) if url else None

    def balance_key(self, account_id) -> str:
        return f"{self.prefix}balance:{account_id}"

    def version_key(self, account_id) -> str:
        return f"{self.prefix}balance-version:{account_id}"

    def cached(self, account_id) -> Optional[Decimal]:
        value = self.client.get(self.balance_key(account_id))
        return None if value is None else Decimal(json.loads(value)["balance"])

    def version(self, account_id) -> str:
        """The account's version as a reader notes it before reading the ledger."""
        value = self.client.get(self.version_key(account_id))
        return "" if value is None else value.decode()

    def populate(self, account_id, balance: Decimal, seen_version: str) -> bool:
        """Caches ``balance`` if no invalidation happened since ``seen_version`` was read."""
        value = json.dumps({"balance": str(balance), "version": seen_version})
        return bool(self._populate(keys=[self.balance_key(account_id), self.version_key(account_id)],
                                   args=[seen_version, value, self.ttl_seconds]))

    def balance(self, db: LedgerDatabase, account_id) -> Decimal:
        """The account's balance: from the cache, or read from the ledger and cached."""
        hit = self.cached(account_id)
        if hit is not None:
            return hit
        seen = self.version(account_id)
        with db.system_context() as conn:
            row = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()
        if row is None:
            raise PostingError(f"unknown account {account_id}")
        self.populate(account_id, row[0], seen)
        return row[0]

    def invalidate(self, account_ids: Iterable) -> None:
        for account_id in set(account_ids):
            self._invalidate(keys=[self.version_key(account_id), self.balance_key(account_id)],
                             args=[VERSION_TTL_SECONDS])

    def entries(self, batch: int = 1000) -> Iterator[CachedBalance]:
        """Every cached balance under the prefix (SCAN, so Redis is never blocked)."""
        pattern = self.balance_key("*")
        keys = []
        for key in self.client.scan_iter(match=pattern, count=batch):
            keys.append(key)
            if len(keys) == batch:
                yield from self._read(keys)
                keys = []
        yield from self._read(keys)

    def read(self, keys: list[str]) -> dict[str, CachedBalance]:
        """The entries of these keys that still hold a value."""
        return {entry.key: entry for entry in self._read([key.encode() for key in keys])}

    def _read(self, keys: list[bytes]) -> Iterator[CachedBalance]:
        if not keys:
            return
        start = len(self.balance_key(""))
        for key, value in zip(keys, self.client.mget(keys)):
            if value is None:  # expired between SCAN and MGET
                continue
            text = key.decode()
            try:
                account_id = uuid.UUID(text[start:])
            except ValueError:
                account_id = None
            try:
                stored = json.loads(value)
                balance, version = Decimal(stored["balance"]), int(stored["version"] or 0)
            except (ValueError, KeyError, TypeError, ArithmeticError):
                balance, version = None, None
            yield CachedBalance(text, account_id, balance, version)


@dataclass
class Posting:
    """Postings made in one database transaction, whose accounts are invalidated after it commits."""

    conn: psycopg.Connection
    touched: set = field(default_factory=set)

    def post(self, transaction_code: str, entries, **kwargs) -> uuid.UUID:
        transaction_id = post_transaction(self.conn, transaction_code, entries, **kwargs)
        self.touched.update(e.account_id for e in entries)
        return transaction_id


@contextmanager
def posting(db: LedgerDatabase, cache: Optional[BalanceCache], **context) -> Iterator[Posting]:
    """A system-context transaction for postings; once it has committed, the cache forgets every
    account they touched. Without a cache it is just the transaction."""
    with db.system_context(**context) as conn:
        batch = Posting(conn)
        yield batch
    if cache is not None:
        cache.invalidate(batch.touched)
