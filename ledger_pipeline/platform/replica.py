"""A streaming replica that reconciliations read from: how far it has replayed the primary's WAL,
and whether that is recent enough to judge the ledger by."""

import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from . import settings
from .db import LedgerDatabase
from .errors import LedgerError
from .sql_files import render

# WAL the primary wrote a moment ago is normally still in flight: a replica that replays it within
# this long (or the lag limit, if shorter) is caught up, not lagging.
CATCH_UP_SECONDS = 2.0


class ReplicaLagError(LedgerError):
    """The replica is further behind the primary than the configured limit."""


@dataclass(frozen=True)
class Replay:
    lsn: str  # the WAL position the replica had replayed
    replayed_at: Optional[dt.datetime]  # the commit time of the last transaction it replayed
    lag_seconds: Optional[Decimal]  # None: behind, and it replayed no transaction since it started
    lag_bytes: Decimal  # WAL the primary had written that the replica had not replayed

    def describe(self) -> str:
        behind = "an unknown time" if self.lag_seconds is None else f"{self.lag_seconds:.1f} s"
        return f"{behind} ({self.lag_bytes} bytes of WAL) behind the primary, replayed up to {self.lsn}"


def primary_position(db: LedgerDatabase) -> str:
    """The primary's current WAL position: what a replica must have replayed to be caught up."""
    with db.pool().connection() as conn:
        return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]


def replay(replica: LedgerDatabase, primary_lsn: str, max_lag_seconds: float) -> Replay:
    """Where the replica stands against ``primary_lsn``, given a moment to catch up first."""
    deadline = time.monotonic() + min(CATCH_UP_SECONDS, max_lag_seconds)
    with replica.pool().connection() as conn:
        while True:
            in_recovery, lsn, replayed_at, lag_seconds, lag_bytes = conn.execute(
                render("replica/replay", primary_lsn=primary_lsn)).fetchone()
            if not in_recovery:
                raise LedgerError(f"{settings.REPLICA_URL_VAR} names a server that is not a streaming replica"
                                  f" ({settings.redact(replica.database_url())}): reconciliations read the primary"
                                  " unless it is unset")
            if lag_bytes == 0 or time.monotonic() >= deadline:
                return Replay(str(lsn), replayed_at, lag_seconds, lag_bytes)
            time.sleep(0.05)


def check_lag(position: Replay, max_lag_seconds: float) -> None:
    if position.lag_seconds is None or position.lag_seconds > max_lag_seconds:
        raise ReplicaLagError(f"the replica is {position.describe()}: over the limit of {max_lag_seconds:g} s"
                              f" ({settings.REPLICA_MAX_LAG_VAR})")
