"""Dagster resources: the ledger database and the hot-balance cache, bound under the keys the assets
and sensors ask for."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

import dagster as dg
import psycopg
from pydantic import PrivateAttr

from ..ledger.balance_cache import DEFAULT_PREFIX, BalanceCache
from ..platform import settings
from ..platform.db import LedgerDatabase


class LedgerResource(dg.ConfigurableResource):
    """The ledger database for assets, checks and sensors: one connection pool per run or sensor
    evaluation, with the same user and system contexts as ``LedgerDatabase``."""

    url: Optional[str] = None  # None: LEDGER_DATABASE_URL, or else the embedded server
    max_connections: int = 4

    _database: Optional[LedgerDatabase] = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._database = LedgerDatabase(self.url, self.max_connections)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.database.close()

    @property
    def database(self) -> LedgerDatabase:
        if self._database is None:  # used directly, outside a Dagster run
            self._database = LedgerDatabase(self.url, self.max_connections)
        return self._database

    @contextmanager
    def user_context(self, user_id, client_ip: Optional[str] = None) -> Iterator[psycopg.Connection]:
        with self.database.user_context(user_id, client_ip) as conn:
            yield conn

    @contextmanager
    def system_context(self, client_ip: Optional[str] = None, on_behalf_of=None) -> Iterator[psycopg.Connection]:
        with self.database.system_context(client_ip, on_behalf_of) as conn:
            yield conn


class BalanceCacheResource(dg.ConfigurableResource):
    """The hot-balance cache in Redis that cached_balances_match_ledger checks; with neither
    ``url`` nor LEDGER_REDIS_URL there is no cache and that check is recorded as skipped."""

    url: Optional[str] = None  # None: LEDGER_REDIS_URL
    prefix: str = DEFAULT_PREFIX

    def cache(self) -> Optional[BalanceCache]:
        url = self.url or settings.redis_url()
        return BalanceCache(url, self.prefix) if url else None


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"ledger_db": LedgerResource(), "balance_cache": BalanceCacheResource()})
