"""The SQL files under sql/, rendered into statements."""

from functools import cache

from psycopg import sql

from . import settings


@cache
def text(name: str) -> str:
    """sql/<name>.sql as it stands: for statements that take bound parameters."""
    return (settings.SQL_DIR / f"{name}.sql").read_text()


def render(name: str, **values) -> sql.Composed:
    """sql/<name>.sql with each {placeholder} filled in as a literal, or, given SQL (another file
    rendered), with that SQL as it is. Literals rather than bound parameters: the files hold
    several statements and CREATE TABLE AS, which take no parameters."""
    return sql.SQL(text(name)).format(**{
        key: value if isinstance(value, sql.Composable) else sql.Literal(value) for key, value in values.items()
    })
