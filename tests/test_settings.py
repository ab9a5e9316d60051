"""Settings read from the environment: a value that is not one is refused with its name."""

import pytest

from ledger_pipeline.platform import settings
from ledger_pipeline.platform.errors import LedgerError


@pytest.mark.parametrize("read, var, default", [
    (settings.alert_retry_seconds, settings.ALERT_RETRY_VAR, 30.0),
    (settings.replica_max_lag_seconds, settings.REPLICA_MAX_LAG_VAR, 300.0),
])
def test_seconds_take_a_finite_number_not_below_zero(read, var, default, monkeypatch):
    monkeypatch.delenv(var, raising=False)
    assert read() == default
    monkeypatch.setenv(var, "0.5")
    assert read() == 0.5
    for bad in ("-1", "nan", "inf", "soon"):
        monkeypatch.setenv(var, bad)
        with pytest.raises(LedgerError, match=f"{var} must be a number of seconds, 0 or more, got '{bad}'"):
            read()
