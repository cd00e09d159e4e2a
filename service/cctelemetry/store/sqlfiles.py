"""The SQL toolkit: ``.sql`` files loaded from the package, identifiers rendered from closed sets, and
files split into statements. Migrations, reports, the merge and the importers all use it.

SQL text only ever contains what this project wrote: values go in as bound ``{name:Type}`` parameters,
and the few things that cannot be bound (a table name, a column expression, a TTL interval) are
``${NAME}`` tokens filled by ``render`` with ``Ident`` or ``Fragment`` values, each checked against the
closed set it may come from. A token left unfilled, or filled with a plain string, is an error.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from functools import cache
from importlib import resources

_TOKEN = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A ';' that ends a line ends a statement (one inside a string or mid-line does not).
_STATEMENT_END = re.compile(r";[ \t]*$", re.M)


class Ident(str):
    """A table or column name, back-quoted when rendered. Made only by ``ident``."""


class Fragment(str):
    """A piece of SQL chosen from a closed set of this project's own fragments. Made only by ``fragment``."""


def ident(name: str, allowed: Collection[str] | None = None) -> Ident:
    """``name`` as an identifier: it must be in ``allowed`` when given, and always a plain name."""
    if allowed is not None and name not in allowed:
        raise ValueError(f"identifier {name!r} is not one of {sorted(allowed)}")
    if not _NAME.match(name):
        raise ValueError(f"identifier {name!r} is not a plain name")
    return Ident(name)


def fragment(key: str, choices: Mapping[str, str]) -> Fragment:
    """The SQL fragment ``choices[key]``; ``key`` must be one of the choices."""
    if key not in choices:
        raise ValueError(f"{key!r} is not one of {sorted(choices)}")
    return Fragment(choices[key])


def trusted(sql: str) -> Fragment:
    """SQL this project composed from its own fragments (e.g. a list of closed-set expressions)."""
    return Fragment(sql)


@cache
def load(package: str, name: str) -> str:
    """The text of ``<package>/sql/<name>.sql`` (read once per process)."""
    return resources.files(package).joinpath("sql", f"{name}.sql").read_text()


def render(sql: str, **tokens: Ident | Fragment) -> str:
    """Fill every ``${NAME}`` in ``sql``; identifiers are back-quoted."""
    for key, value in tokens.items():
        if isinstance(value, Ident):
            text = f"`{value}`"
        elif isinstance(value, Fragment):
            text = str(value)
        else:
            raise TypeError(f"${{{key}}} must be an Ident or a Fragment, not {type(value).__name__}")
        sql = sql.replace("${" + key + "}", text)
    left = _TOKEN.search(sql)
    if left:
        raise ValueError(f"SQL token ${{{left.group(1)}}} was not filled")
    return sql


def inline(sql: str, **values: str) -> str:
    """Replace bound ``{name:String}`` parameters with string literals, for SQL that is stored rather than
    run (a view's definition). Quotes and backslashes are escaped as ClickHouse string literals require."""
    for name, value in values.items():
        literal = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        sql = sql.replace("{" + name + ":String}", literal)
    return sql


def statements(sql: str) -> list[str]:
    """The statements of a file: split where a line ends in ';'; parts holding only comments are dropped."""
    return [part.strip() for part in _STATEMENT_END.split(sql) if has_sql(part)]


def has_sql(part: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in part.splitlines())


def load_statements(package: str, name: str, **tokens: Ident | Fragment) -> list[str]:
    return statements(render(load(package, name), **tokens))
