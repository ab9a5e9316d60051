"""What a reconciliation checks: the check names, their SQL, and the scope of a run."""

import datetime as dt
from dataclasses import dataclass

from ..platform.errors import LedgerError

# The contract: other tools and people query these names.
LEDGER_CHECKS = (
    "debits_equal_credits",
    "liability_balances_non_negative",
    "transactions_balanced",
    "stored_balances_match_entries",
    "amounts_within_currency_precision",
    "fx_conversions_consistent",
    "exchange_rates_available",
    "vat_matches_rate",
    "cached_balances_match_ledger",
)
# The audit trail's integrity (sql/checks/audit): part of every full run, never of a period run.
AUDIT_CHECKS = (
    "audit_log_intact",
    "audit_trail_complete",
    "audit_triggers_enabled",
    "audit_verification_fresh",
)
CHECK_NAMES = LEDGER_CHECKS + AUDIT_CHECKS
QUICK_CHECKS = ("debits_equal_credits",)
# The cache holds balances as of now: a period run, which judges balances as of its end, has no
# use for it.
CACHE_CHECK = "cached_balances_match_ledger"
# Rates to the reporting currency: wanted only where the ledger reports in one currency.
RATES_CHECK = "exchange_rates_available"
PERIOD_CHECKS = tuple(name for name in LEDGER_CHECKS if name != CACHE_CHECK)
RUN_TYPES = ("daily", "hourly", "manual", "backfill", "escalation")
# The ledger against the bank's statements (reconciliation/external.py, sql/checks/external): a
# run type of its own, made by `statements reconcile` rather than `reconcile`.
EXTERNAL = "external"
EXTERNAL_CHECKS = (
    "statements_continuous",
    "statement_lines_matched",
    "ledger_entries_matched",
    "bank_balance_explained",
)


@dataclass(frozen=True)
class Scope:
    """A full run (no period), a period run over [period_start, period_end), or the quick check.

    A full run reads every entry and rebuilds the checkpoint; every other run reads the checkpoint
    plus the entries that arrived since, and extends it."""

    run_type: str
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    checks: tuple[str, ...] | None = None  # None: every check of the run's kind

    def __post_init__(self):
        if self.checks is None:
            object.__setattr__(self, "checks", self.kind_checks)
        if self.run_type not in RUN_TYPES + (EXTERNAL,):
            raise LedgerError(f"run type must be one of {', '.join(RUN_TYPES)}, not {self.run_type!r}")
        if (self.period_start is None) != (self.period_end is None):
            raise LedgerError("a period needs both a start and an end")
        if self.period_start is not None:
            for bound in (self.period_start, self.period_end):
                if bound.tzinfo is None:
                    raise LedgerError(f"period bounds need a time zone, got {bound.isoformat()}")
            if self.period_end <= self.period_start:
                raise LedgerError(
                    f"the period ends ({self.period_end.isoformat()}) before it starts ({self.period_start.isoformat()})"
                )
        unknown = set(self.checks) - set(self.kind_checks)
        if unknown or not self.checks:
            raise LedgerError(f"checks this run cannot make: {', '.join(sorted(unknown)) or 'none given'}")

    @classmethod
    def quick(cls) -> "Scope":
        """The hourly sanity check: the ledger as a whole balances, per currency."""
        return cls("hourly", checks=QUICK_CHECKS)

    @property
    def ledger_checks(self) -> tuple[str, ...]:
        return tuple(c for c in self.checks if c in LEDGER_CHECKS)

    @property
    def audit_checks(self) -> tuple[str, ...]:
        return tuple(c for c in self.checks if c in AUDIT_CHECKS)

    @property
    def is_period(self) -> bool:
        return self.period_start is not None

    @property
    def from_scratch(self) -> bool:
        return not self.is_period and self.run_type not in ("hourly", EXTERNAL)

    @property
    def kind_checks(self) -> tuple[str, ...]:
        """Every check this kind of run makes: a full run adds the audit trail's; a period run
        leaves out the cache's; an external run makes the statements' checks."""
        if self.run_type == EXTERNAL:
            return EXTERNAL_CHECKS
        return CHECK_NAMES if self.from_scratch else PERIOD_CHECKS if self.is_period else LEDGER_CHECKS

    def describe(self) -> str:
        text = "bank statements" if self.run_type == EXTERNAL else describe_period(self.period_start, self.period_end)
        return text if self.checks == self.kind_checks else f"{text}: {', '.join(self.checks)}"

    @property
    def checks_cache(self) -> bool:
        return CACHE_CHECK in self.checks


def describe_period(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """A run's period as people read it (of a Scope, or of a reconciliation_runs row)."""
    return f"{start.isoformat()} to {end.isoformat()}" if start else "whole ledger"
