"""Which ledger account mirrors a bank account: `statements map IDENTIFIER ACCOUNT_CODE`."""

from dataclasses import dataclass
from typing import Optional

from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from ..platform.sql_files import text as sql_text


@dataclass(frozen=True)
class Mapping:
    identifier: str
    currency: str
    account_code: str
    previous_account_code: Optional[str]  # the account it was mapped to before; None: new mapping

    @property
    def changed(self) -> bool:
        return self.previous_account_code != self.account_code


def map_account(db: LedgerDatabase, identifier: str, account_code: str) -> Mapping:
    """Maps ``identifier`` (as statement files give it) in the currency of ``account_code``, a house
    asset account: a bank credit is a debit of it."""
    identifier = identifier.strip()
    if not identifier:
        raise LedgerError("the bank account identifier is empty")
    with db.system_context() as conn:
        account = conn.execute(sql_text("statements/ledger_account"), {"account_code": account_code}).fetchone()
        if account is None:
            raise LedgerError(f"no ledger account has the code {account_code!r}")
        account_id, currency, account_type, user_id = account
        if account_type != "asset" or user_id is not None:
            owner = "a user's" if user_id is not None else "a house"
            raise LedgerError(f"{account_code} is {owner} {account_type} account: a bank account is mirrored by"
                              " a house asset account (a bank credit is a debit of it)")
        keys = {"identifier": identifier, "currency": currency}
        previous = conn.execute(sql_text("statements/mapped_account"), keys).fetchone()
        conn.execute(sql_text("statements/map_account"), {**keys, "account_id": account_id})
    return Mapping(identifier, currency, account_code, previous[0] if previous else None)
