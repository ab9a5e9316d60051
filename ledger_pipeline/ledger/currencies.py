"""Currencies: ISO 4217 codes, names and minor units, from the `iso4217` package (the ISO
maintenance agency's list, with each currency's exponent), and the amount rules they set.

Migration 011 carries the rows as plain SQL a DBA can review; they were printed by
`uv run python -m ledger_pipeline.ledger.currencies`, and tests/test_currencies.py checks that they
still equal the package's data, so a new ISO list shows up as a failing test and a new migration.
"""

import sys
from decimal import Decimal

from iso4217 import Currency

from ..platform import settings
from ..platform.errors import LedgerError


def iso4217_rows() -> list[tuple[str, str, int | None]]:
    """(code, name, minor units) for every currency in the ISO list; minor units are None where
    ISO gives none (gold, SDR, testing codes)."""
    return sorted((c.code, c.currency_name, c.exponent) for c in Currency)


def minor_units(code: str) -> int | None:
    try:
        return Currency(code).exponent
    except ValueError:
        raise LedgerError(f"not an ISO 4217 currency code: {code!r}") from None


def reporting_currency() -> str:
    """LEDGER_REPORTING_CURRENCY (default USD); an unknown code fails here, with its name."""
    code = settings.reporting_currency_code()
    minor_units(code)
    return code


def quantum(code: str) -> Decimal:
    """The currency's minor unit as a Decimal exponent (USD 0.01, JPY 1)."""
    units = minor_units(code)
    return Decimal(1).scaleb(-(units if units is not None else 4))


def seed_sql() -> str:
    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    values = ",\n".join(
        f"    ({literal(code)}, {literal(name)}, {'NULL' if units is None else units})"
        for code, name, units in iso4217_rows()
    )
    return f"INSERT INTO currencies (code, name, minor_units) VALUES\n{values};\n"


if __name__ == "__main__":
    sys.stdout.write(seed_sql())
