"""Matching statement lines with the ledger entries of the accounts that mirror their bank accounts:
set-based, in SQL (sql/statements/matching/), in one transaction per pass.

The rules run in their configured order, each over what the rules before it left:
  reference    the line's end-to-end id (else its bank reference) is the ledger transaction's
               metadata.external_reference; grouped by that key, one line with several entries
               (a payout) or one entry with several lines; the amounts may differ (recorded)
  amount_date  the same amount and currency, booked within the window
  tolerance    an amount within the absolute or relative tolerance, booked within the window
  sum          one line settled by several entries summing to it exactly within the window (or one
               entry by several lines), up to the group size, among its sum_candidates nearest
Passes hold one advisory lock, so two runs at once match one after the other, the second over what
the first left; the partial unique indexes of migration 018 hold the rule even without it.
A pass retries a line left unmatched only when something near its day changed since the bank
account's last pass (sql/statements/matching/changed_days.sql), the last pass's own matches
included: the rules give what they gave then otherwise, and a day's run would grow with the
backlog of lines no rule matches. Near is twice the window: every member of a group is within the
window of its one side, and so is whatever changed the group's chances (an arrival, an undone
match, a candidate taken).
"""

import datetime as dt
import hashlib
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
from ..platform.sql_files import render, text

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
    # The sum rule's combinations of an item are drawn from its nearest candidates only: at most
    # the combinations of max_group_size - 1 of them (sql/statements/matching/sum.sql).
    sum_candidates: int = 16
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
        if self.sum_candidates < self.max_group_size:
            raise LedgerError("sum_candidates is at least the group size")
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
    by_rule: dict[str, int] = field(default_factory=dict)  # matches made by this pass, per rule
    # Every match proposed, in the order of their lines: listed by a dry run only. A recorded pass
    # returns its counts; its matches are in statement_matches.
    matches: list[Match] = field(default_factory=list)
    lines_read: int = 0  # the lines in no active match the pass tried: all, or those near a change

    @property
    def made(self) -> int:
        return sum(self.by_rule.values())

    def counts(self) -> dict[str, int]:
        return dict(self.by_rule)


# The fixed order of each side (prepare.sql), written for a table's alias.
_ORDER = {"match_lines": ("day", "closing_date", "sequence_number", "page_number", "line_number", "id"),
          "match_entries": ("created_at", "id")}


def match(db: LedgerDatabase, rules: Optional[Rules] = None, bank_account_ids: Optional[list[uuid.UUID]] = None,
          dry_run: bool = False, through: Optional[dt.date] = None, listed: Optional[bool] = None) -> MatchResult:
    """One matching pass over the lines and entries in no active match (of these bank accounts; all
    when None; lines booked on or before ``through``, all when None). ``dry_run``: what would
    match, nothing recorded. ``listed``: return every match proposed (by default, a dry run's)."""
    rules = rules or Rules.configured()
    listed = dry_run if listed is None else listed
    timezone = settings.timezone()
    with db.system_context() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (LOCK,))
        # Compiling the plans of a pass costs more than running them.
        conn.execute("SET LOCAL jit = off")
        [watermark] = conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())").fetchone()
        accounts = [_Account(*row, rules, timezone) for row in conn.execute(
            render("statements/matching/bases", bank_accounts=bank_account_ids))]
        within = [_lines_within(conn, account, through) for account in accounts]
        if not any(account.incremental for account in accounts):
            # Every line is read: the links of the matched ones are hashed, not probed a line at a
            # time, nor looped over while the table is still empty.
            conn.execute("SET LOCAL enable_nestloop = off")
        conn.execute(render("statements/matching/prepare", through=through,
                            lines_within=sql.SQL(" OR ").join(within) if within else sql.SQL("false")))
        conn.execute("RESET enable_nestloop")
        lines_read = conn.execute("SELECT count(*) FROM match_lines").fetchone()[0]
        days = conn.execute("SELECT DISTINCT account_id, currency, day FROM match_lines"
                            " ORDER BY account_id, currency, day").fetchall()
        if days:
            conn.execute(render("statements/matching/prepare_entries", timezone=timezone,
                                within=_created_within(_windows(days, rules.window_days), timezone)))
            for rule in rules.order:
                if rule == "reference":  # reads the transactions: the planner's choice
                    _apply(conn, rule, rules)
                    continue
                # The other rules join the work tables, which have no statistics (ANALYZE would cost
                # what the matching does): planned blind, a join of them all looks like a few rows
                # and gets a nested loop. Each is a join of sets: hash joins.
                conn.execute("SET LOCAL enable_nestloop = off")
                conn.execute("SET LOCAL enable_mergejoin = off")
                _apply(conn, rule, rules)
                conn.execute("RESET enable_nestloop")
                conn.execute("RESET enable_mergejoin")
        by_rule = dict(conn.execute("SELECT rule, count(*) FROM proposed GROUP BY rule ORDER BY rule").fetchall())
        if listed or not dry_run:
            # Ids only for matches someone will see: gen_random_uuid() costs about 3 µs a row on a
            # server built without OpenSSL, which reads /dev/urandom for each (the embedded one:
            # BENCHMARKS.md), a third of what finding a match costs.
            conn.execute("UPDATE proposed SET id = gen_random_uuid()")
        rows = conn.execute(render("statements/matching/proposed")).fetchall() if listed else []
        if not dry_run:
            conn.execute(render("statements/matching/record"))
            conn.cursor().executemany(sql.SQL(text("statements/matching/record_pass")), [
                {"bank_account": a.id, "watermark": watermark, "through": through,
                 "fingerprint": a.fingerprint} for a in accounts if a.extended_by(through)])
    return MatchResult(not dry_run, by_rule, [Match(*row) for row in rows], lines_read=lines_read)


@dataclass(frozen=True)
class _Account:
    """A bank account a pass matches, with what its last recorded pass saw (None: no such pass)."""

    id: uuid.UUID
    account_id: uuid.UUID
    currency: str
    watermark: Optional[str]
    through: Optional[dt.date]
    last_fingerprint: Optional[str]
    rules: Rules
    timezone: str

    @property
    def fingerprint(self) -> str:
        """What the rules' answers depend on besides the rows: the rules, the mirrored ledger
        account and the time zone that makes an entry's day."""
        described = repr((self.rules, str(self.account_id), self.currency, self.timezone))
        return hashlib.sha256(described.encode()).hexdigest()

    @property
    def incremental(self) -> bool:
        """Whether a pass may retry only what changed: its last pass matched as this one will."""
        return self.watermark is not None and self.last_fingerprint == self.fingerprint

    def extended_by(self, through: Optional[dt.date]) -> bool:
        """Whether a pass up to ``through`` saw at least the lines the last pass saw, so that it can
        stand for it: one that stops earlier (a backfill's day) leaves what changed after its day
        to the next pass."""
        if not self.incremental or through is None:
            return True
        return self.through is not None and through >= self.through


def _lines_within(conn: psycopg.Connection, account: _Account, through: Optional[dt.date]) -> sql.Composable:
    """The lines of ``account`` a pass reads, as a condition: every one when there is no last pass
    to go by, else those within twice the window of a day that changed since its last pass."""
    if not account.incremental:
        return sql.SQL("b.id = {}").format(sql.Literal(account.id))
    days = conn.execute(render(
        "statements/matching/changed_days", timezone=account.timezone, watermark=account.watermark,
        account=account.account_id, currency=account.currency, bank_account=account.id,
        since_day=account.through, through=through)).fetchall()
    runs = _windows([(account.id, account.currency, day) for (day,) in days], 2 * account.rules.window_days)
    if not runs:
        return sql.SQL("false")
    return sql.SQL("({})").format(sql.SQL(" OR ").join(
        sql.SQL("(b.id = {} AND l.booking_date BETWEEN {} AND {})").format(
            sql.Literal(account.id), sql.Literal(first), sql.Literal(last)) for _, _, first, last in runs))


def _apply(conn: psycopg.Connection, rule: str, rules: Rules) -> None:
    placed = {"window": rules.window_days, "max_group": rules.max_group_size, "strategies": list(rules.strategies)}
    if rule == "reference":
        conn.execute(render("statements/matching/reference", **placed))
    elif rule == "sum":
        # Which side is the one (o) and which the many (m): the tables, and how a line and an entry
        # of a combination are named.
        directions = {"one_to_many": ("match_lines", "match_entries", "o", "m", "ARRAY[one_id]", "ids"),
                      "many_to_one": ("match_entries", "match_lines", "m", "o", "ids", "ARRAY[one_id]")}
        for strategy, (one, many, line, entry, line_ids, entry_ids) in directions.items():
            if strategy in rules.strategies:
                query = render("statements/matching/sum", one=sql.Identifier(one), many=sql.Identifier(many),
                               one_order=_order(one, "o"), many_order=_order(many, "m"),
                               pair=sql.SQL(f"({line}.id, {entry}.id)"), line_day=sql.SQL(f"{line}.day"),
                               entry_day=sql.SQL(f"{entry}.day"), line_ids=sql.SQL(line_ids),
                               entry_ids=sql.SQL(entry_ids), strategy=strategy, candidates=rules.sum_candidates,
                               **placed)
                _rounds(conn, query)
    elif "one_to_one" in rules.strategies:
        if rule == "tolerance" and rules.absolute_tolerance == 0 and rules.relative_tolerance == 0:
            return  # no tolerance: the same as amount_date, which has run or will
        if rule == "amount_date":
            conn.execute(render("statements/matching/same_day"))
        condition = render(f"statements/matching/{rule}", absolute=rules.absolute_tolerance,
                           relative=rules.relative_tolerance, **placed)
        _rounds(conn, render("statements/matching/one_to_one", condition=condition, rule=rule,
                            window=rules.window_days))


def _windows(days: list[tuple], window: int) -> list[tuple]:
    """(account, currency, first, last): the runs of days within ``window`` of a line's day, of
    each account and currency, from its lines' days, sorted by account, currency and day."""
    runs: list[list] = []
    reach = dt.timedelta(days=window)
    for account, currency, day in days:
        if runs and runs[-1][:2] == [account, currency] and day - reach <= runs[-1][3] + dt.timedelta(days=1):
            runs[-1][3] = day + reach
        else:
            runs.append([account, currency, day - reach, day + reach])
    return [tuple(run) for run in runs]


def _created_within(windows: list[tuple], timezone: str) -> sql.Composable:
    """An entry of the account and currency of one of the runs of days, created on one of its days
    in the ledger's time zone."""
    return sql.SQL(" OR ").join(
        sql.SQL("(e.account_id = {account} AND e.currency = {currency} AND e.created_at >= {first}::timestamp"
                " AT TIME ZONE {tz} AND e.created_at < {after}::timestamp AT TIME ZONE {tz})").format(
            account=sql.Literal(account), currency=sql.Literal(currency), first=sql.Literal(first),
            after=sql.Literal(last + dt.timedelta(days=1)), tz=sql.Literal(timezone))
        for account, currency, first, last in windows)


def _order(table: str, alias: str) -> sql.Composable:
    return sql.SQL(", ").join(sql.SQL(f"{alias}.{column}") for column in _ORDER[table])


def _rounds(conn: psycopg.Connection, query: sql.Composable) -> None:
    """Repeats a round until it matches nothing (each round matches at least one pair if any can)."""
    while conn.execute(query).rowcount > 0:
        pass
