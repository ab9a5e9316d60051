"""Matching statement lines with the ledger entries of the accounts that mirror their bank accounts:
set-based, in SQL (sql/statements/matching/), in one transaction per pass.

The rules run in their configured order, each over what the rules before it left:
  reference    the line's end-to-end id (else its bank reference) is the ledger transaction's
               metadata.external_reference; grouped by that key, one line with several entries
               (a payout) or one entry with several lines; the amounts may differ (recorded)
  amount_date  the same amount and currency, booked within the window
  tolerance    an amount within the absolute or relative tolerance, booked within the window
  sum          one line settled by several entries summing to it exactly within the window (or one
               entry by several lines), up to the group size
Passes hold one advisory lock, so two runs at once match one after the other, the second over what
the first left; the partial unique indexes of migration 018 hold the rule even without it.
"""

import datetime as dt
import tomllib
import uuid
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Optional

import psycopg
from psycopg import sql

from ..platform import settings
from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from ..platform.sql_files import render

RULES = ("reference", "amount_date", "tolerance", "sum")
STRATEGIES = ("one_to_one", "one_to_many", "many_to_one")
LOCK = "ledger_pipeline.statement_matching"


@dataclass(frozen=True)
class Rules:
    """What the matcher may match (the defaults are the README's)."""

    order: tuple[str, ...] = RULES
    window_days: int = 2
    absolute_tolerance: Decimal = Decimal(0)
    relative_tolerance: Decimal = Decimal(0)
    max_group_size: int = 3
    strategies: tuple[str, ...] = STRATEGIES

    def __post_init__(self):
        unknown = [r for r in self.order if r not in RULES] + [s for s in self.strategies if s not in STRATEGIES]
        if unknown:
            raise LedgerError(f"unknown matching rules or strategies: {', '.join(unknown)} (rules: {', '.join(RULES)};"
                              f" strategies: {', '.join(STRATEGIES)})")
        if len(set(self.order)) != len(self.order):
            raise LedgerError("a matching rule is listed twice")
        if self.window_days < 0 or self.max_group_size < 2:
            raise LedgerError("the window is 0 days or more, the group size 2 or more")
        if self.absolute_tolerance < 0 or not 0 <= self.relative_tolerance < 1:
            raise LedgerError("tolerances: absolute 0 or more, relative from 0 to below 1")

    @classmethod
    def from_toml(cls, path: Path) -> "Rules":
        """The [matching] table of a TOML file; a key left out keeps its default."""
        try:
            table = tomllib.loads(Path(path).read_text()).get("matching", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise LedgerError(f"matching rules {path}: {exc}") from None
        known = {f.name for f in fields(cls)}
        if set(table) - known:
            raise LedgerError(f"matching rules {path}: unknown keys {', '.join(sorted(set(table) - known))}")
        values = {}
        try:
            for key, value in table.items():
                if key in ("order", "strategies"):
                    values[key] = tuple(value)
                elif key in ("absolute_tolerance", "relative_tolerance"):
                    # Strings, so an amount is exact; a TOML float would not be.
                    if not isinstance(value, (str, int)):
                        raise LedgerError(f"{key} is written as a string, e.g. \"0.01\"")
                    values[key] = Decimal(str(value))
                elif isinstance(value, int) and not isinstance(value, bool):
                    values[key] = value
                else:
                    raise LedgerError(f"{key} is a whole number")
        except (InvalidOperation, TypeError, LedgerError) as exc:
            raise LedgerError(f"matching rules {path}: {exc}") from None
        return cls(**values)

    @classmethod
    def configured(cls) -> "Rules":
        path = settings.matching_rules_file()
        return cls.from_toml(path) if path else cls()


@dataclass(frozen=True)
class Match:
    id: uuid.UUID
    bank_account_id: uuid.UUID
    rule: str
    strategy: str
    amount_difference: Decimal
    days_difference: int
    line_ids: list[uuid.UUID]
    entry_ids: list[uuid.UUID]


@dataclass
class MatchResult:
    recorded: bool  # False: a dry run, nothing written
    matches: list[Match] = field(default_factory=list)  # made by this pass, in order

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for m in self.matches:
            found[m.rule] = found.get(m.rule, 0) + 1
        return found


def match(db: LedgerDatabase, rules: Optional[Rules] = None, bank_account_ids: Optional[list[uuid.UUID]] = None,
          dry_run: bool = False, through: Optional[dt.date] = None) -> MatchResult:
    """One matching pass over the lines and entries in no active match (of these bank accounts; all
    when None; lines booked on or before ``through``, all when None). ``dry_run``: what would
    match, nothing recorded."""
    rules = rules or Rules.configured()
    with db.system_context() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (LOCK,))
        conn.execute(render("statements/matching/prepare", bank_accounts=bank_account_ids, through=through,
                            timezone=settings.timezone(), window=rules.window_days))
        for rule in rules.order:
            _apply(conn, rule, rules)
        rows = conn.execute("SELECT id, bank_account_id, rule, strategy, amount_difference, days_difference,"
                            " line_ids, entry_ids FROM proposed ORDER BY ord, id").fetchall()
        if not dry_run:
            conn.execute(render("statements/matching/record"))
    return MatchResult(not dry_run, [Match(*row) for row in rows])


def _apply(conn: psycopg.Connection, rule: str, rules: Rules) -> None:
    placed = {"window": rules.window_days, "max_group": rules.max_group_size, "strategies": list(rules.strategies)}
    if rule == "reference":
        conn.execute(render("statements/matching/reference", **placed))
    elif rule == "sum":
        # Nothing left on one side: no combination can match, and building them is what costs.
        if not conn.execute("SELECT EXISTS (SELECT FROM match_lines WHERE NOT taken)"
                            " AND EXISTS (SELECT FROM match_entries WHERE NOT taken)").fetchone()[0]:
            return
        # Which side is the one (o) and which the many (m): the tables, and how a line and an entry
        # of a combination are named.
        directions = {"one_to_many": ("match_lines", "match_entries", "o", "m", "ARRAY[one_id]", "ids"),
                      "many_to_one": ("match_entries", "match_lines", "m", "o", "ids", "ARRAY[one_id]")}
        for strategy, (one, many, line, entry, line_ids, entry_ids) in directions.items():
            if strategy in rules.strategies:
                query = render("statements/matching/sum", one=sql.Identifier(one), many=sql.Identifier(many),
                               pair=sql.SQL(f"({line}.id, {entry}.id)"), line_day=sql.SQL(f"{line}.day"),
                               entry_day=sql.SQL(f"{entry}.day"), line_ids=sql.SQL(line_ids),
                               entry_ids=sql.SQL(entry_ids), strategy=strategy, **placed)
                _rounds(conn, query)
    elif "one_to_one" in rules.strategies:
        if rule == "tolerance" and rules.absolute_tolerance == 0 and rules.relative_tolerance == 0:
            return  # no tolerance: the same as amount_date, which has run or will
        condition = render(f"statements/matching/{rule}", absolute=rules.absolute_tolerance,
                           relative=rules.relative_tolerance, **placed)
        _rounds(conn, render("statements/matching/one_to_one", condition=condition, rule=rule))


def _rounds(conn: psycopg.Connection, query: sql.Composable) -> None:
    """Repeats a round until it matches nothing (each round matches at least one pair if any can)."""
    while conn.execute(query).rowcount > 0:
        pass
