"""The exceptions people handle: `statements match-manual` pairs a statement line with ledger
entries the rules could not, and `statements unmatch` undoes a match. Both carry a reason and are
in the audit log (migration 018's triggers); the matcher never undoes a match, so both survive
later runs, and a pair a person unmatched is never matched again by a rule."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import psycopg

from ..platform import settings
from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from ..platform.sql_files import text as sql_text
from .matching import LOCK


@dataclass(frozen=True)
class ManualMatch:
    id: uuid.UUID
    amount_difference: Decimal  # the line less the entries, as the bank sees the account
    days_difference: int


def match_manual(db: LedgerDatabase, line_id: uuid.UUID, entry_ids: Sequence[uuid.UUID], reason: str) -> ManualMatch:
    """Matches one statement line with one or more entries of the ledger account mirroring its bank
    account, neither in an active match."""
    reason = _reason(reason)
    entry_ids = list(dict.fromkeys(entry_ids))
    if not entry_ids:
        raise LedgerError("a manual match needs at least one ledger entry")
    with db.system_context() as conn:
        # The matcher's lock: a pass running now would otherwise be refused at its end.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (LOCK,))
        rows = conn.execute(sql_text("statements/matching/manual_candidates"),
                            {"line_id": line_id, "entry_ids": entry_ids, "timezone": settings.timezone()}).fetchall()
        lines = [r for r in rows if r[0] == "line"]
        entries = {r[1]: r for r in rows if r[0] == "entry"}
        if not lines:
            raise LedgerError(f"no statement line has the id {line_id}")
        missing = [str(e) for e in entry_ids if e not in entries]
        if missing:
            raise LedgerError(f"no ledger entry has the id {', '.join(missing)}")
        _, _, bank_account_id, account_id, currency, amount, day, match_id = lines[0]
        if match_id:
            raise LedgerError(f"statement line {line_id} is already in match {match_id} (statements unmatch it first)")
        for entry_id, (_, _, _, entry_account, entry_currency, _, _, entry_match) in entries.items():
            if entry_account != account_id or entry_currency != currency:
                raise LedgerError(f"entry {entry_id} is not a {currency} entry of the ledger account that mirrors the"
                                  " line's bank account")
            if entry_match:
                raise LedgerError(f"entry {entry_id} is already in match {entry_match} (statements unmatch it first)")
        # A group's day difference is its largest in size, as the matcher records it.
        days = max(((entries[e][6] - day).days for e in entry_ids), key=lambda d: (abs(d), d))
        values = {"bank_account_id": bank_account_id, "line_id": line_id, "entry_ids": entry_ids, "reason": reason,
                  "strategy": "one_to_one" if len(entry_ids) == 1 else "one_to_many",
                  "amount_difference": amount - sum(entries[e][5] for e in entry_ids),
                  "days_difference": days}
        try:
            made = conn.execute(sql_text("statements/matching/manual"), values).fetchone()[0]
        except psycopg.errors.UniqueViolation:
            raise LedgerError("the line or an entry was matched meanwhile; run the command again") from None
    return ManualMatch(made, values["amount_difference"], values["days_difference"])


def unmatch(db: LedgerDatabase, match_id: uuid.UUID, reason: str) -> None:
    """Undoes an active match, with the reason."""
    reason = _reason(reason)
    with db.system_context() as conn:
        if conn.execute(sql_text("statements/matching/unmatch"), {"match_id": match_id, "reason": reason}).fetchone():
            return
        found = conn.execute("SELECT unmatched_at FROM statement_matches WHERE id = %s", (match_id,)).fetchone()
    if found is None:
        raise LedgerError(f"no match has the id {match_id}")
    raise LedgerError(f"match {match_id} was already undone on {found[0]:%Y-%m-%d %H:%M %Z}")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError("a reason is required: it is what the audit log keeps of why")
    return reason
