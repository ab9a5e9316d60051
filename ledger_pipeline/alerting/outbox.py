"""The alert outbox (table alert_outbox, migration 014): alerts are queued, one row per alert and
channel, then delivered from the queue, each with its own retries.

Delivery is exactly once per alert and channel when a channel is down in the usual ways: a
refused connection, an unknown host or an HTTP error answer means the channel did not take the
alert, so it stays queued and is sent again later, and once the channel takes it the row is
marked delivered in the same transaction that held it. Two cases can deliver an alert twice, and
no sender can rule them out: a channel that takes the alert but whose answer never arrives (a read
timeout after the request was sent), and a database that fails between the channel's answer and
the commit of the mark. The alert's body names its Dagster run, so a receiver can drop a repeat.
"""

import hashlib
import logging
from dataclasses import dataclass
from typing import Optional

import apprise

from ..platform import settings
from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from .messages import Alert


def _sql(name: str) -> str:
    return (settings.SQL_DIR / "alert_outbox" / f"{name}.sql").read_text()


def channel(url: str) -> str:
    """A channel's name in the table: the URL's hash, so the tokens in URLs stay out of it."""
    return hashlib.sha256(url.encode()).hexdigest()


def enqueue(db: LedgerDatabase, alert_key: str, alert: Alert, urls: list[str]) -> int:
    """Queues the alert for every URL; an alert queued before (same key) is left as it is.
    Returns how many rows (alert and channel) were new."""
    with db.system_context() as conn:
        return conn.execute(_sql("enqueue"), {"alert_key": alert_key, "title": alert.title, "body": alert.body,
                                              "channels": [channel(u) for u in urls]}).rowcount


@dataclass
class Delivery:
    delivered: int = 0
    failed: int = 0  # attempts that failed this round (each alert waits for its next attempt)
    pending: int = 0  # alerts still queued after this round
    oldest_pending: Optional[object] = None

    def describe(self) -> str:
        text = f"{self.delivered} delivered"
        if self.failed:
            text += f", {self.failed} attempt(s) failed"
        if self.pending:
            text += f"; {self.pending} waiting (oldest queued {self.oldest_pending:%Y-%m-%d %H:%M:%S %Z})"
        return text


def deliver_due(db: LedgerDatabase, urls: list[str], log: logging.Logger, limit: int = 50) -> Delivery:
    """Sends the alerts that are due, oldest first, at most ``limit``. A channel that fails one is
    not tried again in this round: the rest of its alerts wait for the next, without an attempt
    counted against them, and the failed one goes behind them."""
    by_channel = {channel(u): u for u in urls}
    failed_channels: list[str] = []
    delivery = Delivery()
    for _ in range(limit):
        with db.system_context() as conn:
            row = conn.execute(_sql("claim"), {"channels": list(by_channel), "failed_channels": failed_channels}).fetchone()
            if row is None:
                break
            id_, name, title, body, attempts = row
            error = send(by_channel[name], title, body)
            if error is None:
                conn.execute(_sql("delivered"), {"id": id_})
                delivery.delivered += 1
            else:
                conn.execute(_sql("retry"), {"id": id_, "error": error[:1000],
                                             "retry_seconds": settings.alert_retry_seconds()})
                failed_channels.append(name)
                delivery.failed += 1
                log.warning(f"alert {id_} not delivered (attempt {attempts + 1}): {error}")
    with db.system_context() as conn:
        delivery.pending, delivery.oldest_pending = conn.execute(_sql("pending"), {"channels": list(by_channel)}).fetchone()
    return delivery


def send(url: str, title: str, body: str) -> Optional[str]:
    """None when the channel took the alert, else why not (apprise's own warnings)."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise LedgerError(f"not a notification URL apprise understands: {url.split('://')[0]}://...")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        if notifier.notify(title=title, body=body):
            return None
        reason = " ".join(captured.getvalue().split())
    return reason or "the channel did not take the alert"
