"""Where a run reads the ledger: in its own snapshot on the primary, or in a snapshot on a
streaming replica.

A run writes (its items, the tables its checks share, the checkpoint) in one transaction on the
primary. Without a replica it reads there too. With one, a hot standby cannot create even a
temporary table, so each read that feeds a table is streamed across: COPY out of the replica,
block by block into COPY on the primary, never the whole result in memory.
"""

from typing import Optional

import psycopg
from psycopg import sql

ITEM_COLUMNS = sql.SQL("run_id, check_name, account_id, transaction_id, currency, expected, actual, difference,"
                       " status, details")
ITEM_ROWS = sql.SQL(
    "SELECT c.run_id, {check}, c.account_id, c.transaction_id, c.currency, c.expected, c.actual, c.difference,"
    "       CASE WHEN c.expected IS DISTINCT FROM c.actual THEN 'mismatch' ELSE 'matched' END, c.details"
    " FROM ({query}) AS c"
)


def insert_items(conn: psycopg.Connection, check: str, query: sql.Composable) -> None:
    """Writes a check's rows into reconciliation_items, in the database that computes them."""
    Reader(conn).insert_items(check, query)


class Reader:
    """Reads the ledger for a run whose writes go to ``run``, a transaction on the primary;
    ``replica``, if given, is a REPEATABLE READ transaction on the replica that does the reading."""

    def __init__(self, run: psycopg.Connection, replica: Optional[psycopg.Connection] = None):
        self.run = run
        self.source = replica or run

    @property
    def on_replica(self) -> bool:
        return self.source is not self.run

    def execute(self, query: sql.Composable) -> psycopg.Cursor:
        """A small read, its rows returned to Python."""
        return self.source.execute(query)

    def materialize(self, table: str, query: sql.Composable) -> None:
        """The run's temporary ``table`` on the primary, holding what ``query`` reads."""
        create = sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS {}").format(sql.Identifier(table), query)
        if self.on_replica:
            self.run.execute(create + sql.SQL(" WITH NO DATA"))  # the primary has the same schema to plan by
            self._stream(query, sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table)))
        else:
            self.run.execute(create)
        self.run.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))

    def mirror(self, table: str) -> None:
        """Makes the run's statements on the primary read ``table`` as the replica's snapshot has it:
        a temporary copy, which shadows the table of that name (the session's temporary schema is
        searched first), with its indexes (the checks group by its primary key). Reading the
        primary, the run's own snapshot already does."""
        if self.on_replica:
            name = sql.Identifier(table)
            self.run.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE public.{} INCLUDING INDEXES) ON COMMIT DROP").format(name, name))
            self._stream(sql.SQL("SELECT * FROM public.{}").format(name),
                         sql.SQL("COPY pg_temp.{} FROM STDIN").format(name))
            self.run.execute(sql.SQL("ANALYZE pg_temp.{}").format(name))

    def insert_items(self, check: str, query: sql.Composable) -> None:
        """Writes the rows of a check that reads the ledger into reconciliation_items."""
        self.insert(sql.SQL("reconciliation_items ({})").format(ITEM_COLUMNS),
                    ITEM_ROWS.format(check=sql.Literal(check), query=query))

    def insert(self, table: sql.Composable, query: sql.Composable) -> None:
        """Writes what ``query`` reads into ``table`` (a name, and its columns if need be) on the primary."""
        if self.on_replica:
            self._stream(query, sql.SQL("COPY {} FROM STDIN").format(table))
        else:
            self.run.execute(sql.SQL("INSERT INTO {} {}").format(table, query))

    def _stream(self, query: sql.Composable, copy_in: sql.Composable) -> None:
        with self.source.cursor().copy(sql.SQL("COPY ({}) TO STDOUT").format(query)) as out, \
                self.run.cursor().copy(copy_in) as into:
            for block in out:
                into.write(block)
