"""Command plugins: subcommands that other installed packages add to `smartcross`.

The contract. A package declares, in its pyproject.toml,

    [project.entry-points."smartcross.commands"]
    NAME = "package.module:register"

and `register(sub, shared) -> None` adds its subcommands:

- `sub` is the program's `argparse` subparsers object: `sub.add_parser(...)`, each parser
  with `set_defaults(func=handler)`; `handler(args) -> int` returns the exit status.
- `shared` is controller.cli.options: `add_json`, `add_plot`, `add_output`, `add_seed`,
  `add_duration`, ... (the shared options, spelled as every other command spells them),
  `Number` (the `type` of any other numeric option: finite, bounded, refused by the
  parser with status 2), `require_plot(args)`, `writable(path, what)`, `print_problems`
  (a capped list of problems), and `UsageError`: raised by a handler, it becomes
  `error: <message>` and exit status 2, as for any built-in command.

A plugin whose package is not installed (the entry point names a module that is absent,
e.g. a cabinet install without the HIL rig) is skipped: its commands are simply not there.
Any other failure while loading or registering a plugin is a bug and is not hidden.
"""

from __future__ import annotations

import argparse
from importlib.metadata import EntryPoint, entry_points

from . import options

GROUP = "smartcross.commands"


def register_plugins(sub: argparse._SubParsersAction) -> None:
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        register = _load(ep)
        if register is not None:
            register(sub, options)


def _load(ep: EntryPoint):
    try:
        return ep.load()
    except ModuleNotFoundError as e:
        # only the plugin's own package missing means "not installed"
        top = ep.module.split(".")[0]
        if e.name is not None and (e.name == top or ep.module.startswith(e.name + ".")
                                   or e.name == ep.module):
            return None
        raise
