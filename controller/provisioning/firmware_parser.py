"""The firmware's own configuration parsers, imported from firmware/ on the cabinet.

Provisioning checks each file it writes with the parser the board itself will run (the
node's firmware/node/config.py, the monitor unit's firmware/munit/config.py), imported as a
private package so that it never meets the cabinet's own modules of the same names.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from ..errors import INPUT, ToolError


def load_parser(pkg: str, folder: Path, modules: tuple[str, ...], what: str) -> ModuleType:
    """`folder` (a firmware package) as the private package `pkg`, with `modules` imported
    in order, once; returns the last one. A missing folder or parser is a ToolError."""
    name = f"{pkg}.{modules[-1]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(pkg, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None or not (folder / f"{modules[-1]}.py").is_file():
        raise ToolError(f"{folder}: {what} is not there", INPUT)
    package = importlib.util.module_from_spec(spec)
    sys.modules[pkg] = package
    spec.loader.exec_module(package)
    for sub in modules:
        s = importlib.util.spec_from_file_location(f"{pkg}.{sub}", folder / f"{sub}.py")
        assert s is not None and s.loader is not None
        mod = importlib.util.module_from_spec(s)
        sys.modules[f"{pkg}.{sub}"] = mod
        s.loader.exec_module(mod)
    return sys.modules[name]
