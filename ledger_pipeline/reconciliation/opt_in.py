"""Checks of features a ledger may not use. Each is made only once its feature is configured; until
then it is recorded as skipped, with the reason, never as failed: a ledger that keeps no cache,
or does not report in one currency, is not at fault for lacking one."""

from ..platform import settings
from .checks import CACHE_CHECK, RATES_CHECK


def skipped(checks: tuple[str, ...], cache_configured: bool) -> dict[str, str]:
    """Of ``checks``, those not to make, each with why."""
    reasons = {
        CACHE_CHECK: None if cache_configured else f"no cache configured ({settings.REDIS_URL_VAR} is unset)",
        RATES_CHECK: None if settings.reporting_currency_configured() else (
            f"no reporting currency configured ({settings.REPORTING_CURRENCY_VAR} is unset): rates are"
            " needed only to report the ledger in one currency"),
    }
    return {name: reason for name, reason in reasons.items() if reason and name in checks}
