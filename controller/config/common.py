"""What the section readers share: ids that must be unique, references to declared ids,
and the group × group tables (geometry, intergreen)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .reader import Table


class Declared(dict):
    """Valid entries by id, and every id declared (valid or not) in `declared`.

    A reference to a declared id whose entry is invalid is not an error of its own: the
    entry's own problems are reported, and "not defined" would be wrong.
    """

    def __init__(self, valid: dict, declared: set[str]):
        super().__init__(valid)
        self.declared = declared


def unique(tables: list[Table], what: str) -> list[tuple[Table, str]]:
    out, seen = [], set()
    for t in tables:
        ident = t.get_str("id")
        if ident is None:
            continue
        t.label(ident)
        if ident in seen:
            t.error("id", f"duplicate {what} id {ident!r}")
            continue
        seen.add(ident)
        out.append((t, ident))
    return out


def undefined_group(t: Table, key: str, gid: str, groups: Declared) -> None:
    """Report `gid` under `key` when no signal group of that id is declared at all."""
    if gid not in groups.declared:
        t.error(key, f"names signal group {gid!r}, which is not defined")


def group_matrix(table: Table, groups: Declared, cell: Callable[[Table, str], Any],
                 skip: tuple[str, ...] = ()) -> Iterator[tuple[str, str, Any]]:
    """The cells of a `[from] to = cell` table over signal groups (geometry, intergreen):
    (a, b, value) for every row and column that name valid groups and every cell that
    `cell(row, b)` read without a problem (it returns None otherwise). Rows and columns
    naming undeclared groups are reported; every row is finished once its cells are done."""
    for a in list(table.data):
        if a in skip:
            continue
        row = table.get_table(a)
        if a not in groups:
            undefined_group(table, a, a, groups)
            continue
        if row is None:
            continue
        for b in list(row.data):
            value = cell(row, b)
            if b not in groups:
                undefined_group(row, b, b, groups)
                continue
            if value is not None:
                yield a, b, value
        row.finish()
