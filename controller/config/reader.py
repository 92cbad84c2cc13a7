"""Reading TOML tables with key paths, so that every error says where it is.

A `Table` wraps one TOML table and the path that leads to it. Each `get_*` call
marks a key as known; `finish()` reports every key nobody asked for. Errors are
collected, not raised, so that `smartcross check` shows all of them at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Problems:
    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(self.file, path, message))

    def __bool__(self) -> bool:
        return bool(self.items)


_MISSING = object()
LARGEST = 1e9      # no quantity in a signal configuration comes near this


def _finite(v: int | float) -> bool:
    """A number that a float holds and that means something here (not nan, inf, 1e400)."""
    try:
        return math.isfinite(float(v)) and abs(v) < LARGEST
    except OverflowError:
        return False


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "a whole number", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


class Table:
    def __init__(self, data: dict, path: str, problems: Problems):
        self.data = data
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str | None, message: str) -> None:
        self.problems.add(self.key(name) if name else self.path, message)

    def has(self, name: str) -> bool:
        return name in self.data

    def _raw(self, name: str, default: Any) -> Any:
        self.seen.add(name)
        if name not in self.data:
            if default is _MISSING:
                self.error(name, "is required")
            return default
        return self.data[name]

    def get_str(self, name: str, default: Any = _MISSING, choices: tuple | None = None) -> Any:
        v = self._raw(name, default)
        if v is _MISSING:          # required and absent: already reported
            return None
        if v is default:
            return v
        if not isinstance(v, str):
            self.error(name, f"must be a string, not {_type_name(v)}")
            return None if default is _MISSING else default
        if choices is not None and v not in choices:
            self.error(name, f"must be one of {', '.join(choices)}; got {v!r}")
            return None if default is _MISSING else default
        return v

    def get_int(self, name: str, default: Any = _MISSING, lo: int | None = None,
                hi: int | None = None) -> Any:
        v = self._raw(name, default)
        if v is _MISSING:          # required and absent: already reported
            return None
        if v is default:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            self.error(name, f"must be a whole number, not {_type_name(v)}")
            return None if default is _MISSING else default
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = (f"between {lo} and {hi}" if lo is not None and hi is not None
                   else f"at least {lo}" if lo is not None else f"at most {hi}")
            self.error(name, f"must be {rng}; got {v}")
            return None if default is _MISSING else default
        return v

    def get_seconds(self, name: str, default: Any = _MISSING, lo: float = 0.0,
                    hi: float | None = None) -> Any:
        """A duration in seconds, a multiple of 0.1 s (the controller's step)."""
        v = self._raw(name, default)
        if v is _MISSING:          # required and absent: already reported
            return None
        if v is default:
            return v
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.error(name, f"must be a number of seconds, not {_type_name(v)}")
            return None if default is _MISSING else default
        if not _finite(v):
            self.error(name, f"must be a finite number of seconds; got {v!r}")
            return None if default is _MISSING else default
        v = float(v)
        if v < lo or (hi is not None and v > hi):
            rng = f"at least {lo:g} s" if hi is None else f"between {lo:g} and {hi:g} s"
            self.error(name, f"must be {rng}; got {v:g} s")
            return None if default is _MISSING else default
        if abs(v * 10 - round(v * 10)) > 1e-6:
            self.error(name, f"must be a multiple of 0.1 s; got {v:g} s")
            return None if default is _MISSING else default
        return round(v, 1)

    def get_number(self, name: str, default: Any = _MISSING, lo: float = 0.0) -> Any:
        v = self._raw(name, default)
        if v is _MISSING:          # required and absent: already reported
            return None
        if v is default:
            return v
        if isinstance(v, bool) or not isinstance(v, int | float) or not _finite(v) or v < lo:
            self.error(name, f"must be a finite number ≥ {lo:g}; got {v!r}")
            return None if default is _MISSING else default
        return float(v)

    def get_positive(self, name: str, default: Any = _MISSING) -> Any:
        v = self.get_number(name, default)
        if v is not None and v is not default and v <= 0:
            self.error(name, f"must be more than 0; got {v:g}")
            return None if default is _MISSING else default
        return v

    def get_str_list(self, name: str, default: Any = _MISSING) -> Any:
        v = self._raw(name, default)
        if v is _MISSING:          # required and absent: already reported
            return None
        if v is default:
            return v
        if isinstance(v, str):
            return (v,)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.error(name, "must be a list of strings")
            return ()
        return tuple(v)

    def get_int_list(self, name: str, default: Any = _MISSING) -> Any:
        v = self._raw(name, default)
        if v is _MISSING:          # required and absent: already reported
            return None
        if v is default:
            return v
        if not isinstance(v, list) or not all(
                isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v):
            self.error(name, "must be a list of whole numbers ≥ 0")
            return ()
        return tuple(v)

    def get_table(self, name: str, required: bool = False) -> Table | None:
        v = self._raw(name, _MISSING if required else None)
        if v is None or v is _MISSING:
            return None
        if not isinstance(v, dict):
            self.error(name, f"must be a table, not {_type_name(v)}")
            return None
        return Table(v, self.key(name), self.problems)

    def get_tables(self, name: str, required: bool = False) -> list[Table]:
        """An array of tables (`[[name]]`)."""
        v = self._raw(name, _MISSING if required else [])
        if v is _MISSING:
            return []
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            self.error(name, f"must be an array of tables ([[{name}]])")
            return []
        return [Table(x, f"{self.key(name)}[{i}]", self.problems) for i, x in enumerate(v)]

    def label(self, ident: str | None) -> None:
        """Name this table by its id in later messages: `intersection[kb].group[A1]`."""
        if ident and self.path.endswith("]"):
            self.path = self.path[: self.path.rindex("[")] + f"[{ident}]"

    def finish(self) -> None:
        for k in self.data:
            if k not in self.seen:
                self.error(k, "unknown key")
