"""Reconciliation: the ledger checks as Great Expectations expectations, recorded in the database."""

from .checks import CHECK_NAMES, RUN_TYPES, Scope
from .engine import CheckOutcome, RunResult, reconcile, reconcile_windows

__all__ = ["CHECK_NAMES", "RUN_TYPES", "Scope", "CheckOutcome", "RunResult", "reconcile", "reconcile_windows"]
