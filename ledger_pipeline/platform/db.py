"""The ledger database: a connection pool and the security contexts.

Plain Python, so the command line starts without importing Dagster; defs/resources.py wraps it as a
Dagster resource."""

import ipaddress
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from typing import Optional

import psycopg
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

from . import settings
from .connections import connect
from .errors import LedgerError


def database_url() -> str:
    """The ledger database: LEDGER_DATABASE_URL, or else a database on the embedded server."""
    configured = settings.configured_database_url()
    if configured:
        return configured
    from . import embedded  # starting the embedded server's package costs an import; a URL skips it

    return embedded.database_url(settings.LEDGER_DATABASE)


class LedgerDatabase:
    """The ledger database.

    ``user_context`` and ``system_context`` are the counterparts of the seed's setUserContext /
    transactionWithUser and setSystemContext / transactionAsSystem: each yields a connection inside
    one database transaction whose role and user are set for that transaction only, committed when
    the block ends and rolled back if it raises.
    """

    def __init__(self, url: Optional[str] = None, max_connections: int = 4, replica_url: Optional[str] = None,
                 replica_max_lag_seconds: Optional[float] = None):
        self.url = url  # None: LEDGER_DATABASE_URL, or else the embedded server
        self.max_connections = max_connections
        self.replica_url = replica_url  # None: LEDGER_REPLICA_URL, or else no replica
        self.replica_max_lag_seconds = replica_max_lag_seconds  # None: LEDGER_REPLICA_MAX_LAG_SECONDS
        self._pool: Optional[ConnectionPool] = None
        self._url: Optional[str] = None
        self._replica: Optional[LedgerDatabase] = None
        self._pool_lock = threading.Lock()  # threads share one database object and its one pool

    def database_url(self) -> str:
        if self._url is None:
            self._url = (
                settings.validate_database_url(self.url, "the database url")
                if self.url
                else database_url()
            )
        return self._url

    def connect(self, **kwargs) -> psycopg.Connection:
        return connect(self.database_url(), **kwargs)

    def replica(self) -> Optional["LedgerDatabase"]:
        """The streaming replica that reconciliations read from, if one is configured."""
        if self._replica is None:
            url = (settings.validate_database_url(self.replica_url, "the replica url") if self.replica_url
                   else settings.replica_url())
            if url is None:
                return None
            self._replica = LedgerDatabase(url, max_connections=2)
        return self._replica

    def max_replica_lag(self) -> float:
        if self.replica_max_lag_seconds is not None:
            return self.replica_max_lag_seconds
        return settings.replica_max_lag_seconds()

    def pool(self) -> ConnectionPool:
        with self._pool_lock:
            if self._pool is None:
                url = self.database_url()
                connect(url).close()  # an unreachable server fails here with its reason, not a pool timeout
                self._pool = ConnectionPool(
                    url,
                    min_size=1,
                    max_size=self.max_connections,
                    kwargs={"connect_timeout": 10},
                    check=ConnectionPool.check_connection,
                    configure=_exact_json,
                    open=True,
                )
            return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._replica is not None:
            self._replica.close()

    @contextmanager
    def user_context(self, user_id, client_ip: Optional[str] = None) -> Iterator[psycopg.Connection]:
        """A transaction that sees only ``user_id``'s rows (role ledger_app)."""
        with self._transaction("SELECT set_user_context(%s, %s)", (_user_id(user_id), _ip(client_ip))) as conn:
            yield conn

    @contextmanager
    def system_context(self, client_ip: Optional[str] = None, on_behalf_of=None,
                       repeatable_read: bool = False) -> Iterator[psycopg.Connection]:
        """A transaction for the ledger's own work, which sees every row (role ledger_system).
        ``on_behalf_of`` names the user it acts for, in the audit log. ``repeatable_read``: every
        statement reads the same snapshot (a reconciliation's checks must agree with each other)."""
        user = None if on_behalf_of is None else _user_id(on_behalf_of)
        with self._transaction("SELECT set_system_context(%s, %s)", (_ip(client_ip), user), repeatable_read) as conn:
            yield conn

    @contextmanager
    def _transaction(self, enter_context: str, params: tuple,
                     repeatable_read: bool = False) -> Iterator[psycopg.Connection]:
        with self.pool().connection() as conn, conn.transaction():
            if repeatable_read:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            conn.execute(enter_context, params)
            yield conn


def _exact_json(conn: psycopg.Connection) -> None:
    """Amounts inside JSONB (audit snapshots, reconciliation details) load as exact decimals."""
    set_json_loads(partial(json.loads, parse_float=Decimal), conn)


def _user_id(value) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise LedgerError(f"user id must be a UUID, got {value!r}") from None


def _ip(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise LedgerError(f"client ip must be an IP address, got {value!r}") from None
