"""Reconciliation: the ledger checks as Great Expectations expectations, recorded in the database;
checkpoints in arrival order, backfill plans, late arrivals and the sight checks of a run.

May import platform/, ledger/ and audit/."""

from .checks import CHECK_NAMES, RUN_TYPES, Scope
from .engine import CheckOutcome, RunResult, reconcile, reconcile_windows

__all__ = ["CHECK_NAMES", "RUN_TYPES", "Scope", "CheckOutcome", "RunResult", "reconcile", "reconcile_windows"]
