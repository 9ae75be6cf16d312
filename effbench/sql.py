"""Quoting for the few identifiers and literals that cannot be bound with `?` (DDL, table functions)."""


def quote_ident(name: str) -> str:
    """Return `name` as a DuckDB identifier, double quotes doubled: safe for any column name."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """Return `text` as a DuckDB string literal, single quotes doubled."""
    return "'" + text.replace("'", "''") + "'"
