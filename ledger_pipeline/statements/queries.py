"""The SQL of sql/statements/, one statement per file, with bound parameters."""

from functools import cache

from .. import settings


@cache
def query(name: str) -> str:
    return (settings.SQL_DIR / "statements" / f"{name}.sql").read_text()
