"""`smartcross`: the one command-line program, with a subcommand per job.

Each command family owns its parsers and handlers in a module of this package; this
module only assembles them:

| module | commands |
|---|---|
| `check.py` | `check`, `simulate` |
| `service.py` | `run`, `status`, `log export` (the cabinet service) |
| `plan.py` | `plan apply` (new timing plans for the running service, no restart) |
| `tooling.py` | `firmware build`, `nodes provision`, `nodes scan`, `flash` |
| `sumo.py` | `import-sumo`, `sumo` |
| `options.py` | the options several commands share; `UsageError` |
| `plugins.py` | commands of other packages (entry-point group `smartcross.commands`), |
|              | e.g. `hil` and `demo` from hil/commands.py when the rig is installed |

Bad input ends with a message that names what is wrong and where, and exit status 2;
never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..config import ConfigError
from ..sumo import SumoError
from ..tooling import ToolError
from . import check, plan, service, sumo, tooling
from .options import UsageError
from .plugins import register_plugins

__all__ = ["UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smartcross", description="Open firmware and control "
                                "software for smart intersections.")
    p.add_argument("--version", action="version", version=f"smartcross {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check.register(sub)
    service.register(sub)
    tooling.register(sub)
    service.register_log(sub)
    plan.register(sub)
    sumo.register(sub)
    register_plugins(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(e.problems)} problem(s); nothing was changed.", file=sys.stderr)
        return 2
    except (UsageError, SumoError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130
