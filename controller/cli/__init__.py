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

Exit status (README, "Exit status"): 0 done; 1 the run or the verdict failed (a monitor
violation, a failed scenario, a service that never reached a node, a step on a board that
failed, a service that is not running); 2 bad input (an option, a file, a configuration):
a message that names what is wrong and where, nothing changed, never a traceback.
Floods of problems are cut to the first `MAX_PROBLEMS` and a count of the rest.
"""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from ..config import ConfigError
from ..sumo import SumoError
from ..tooling import ToolError
from . import check, plan, service, sumo, tooling
from .options import Parser, UsageError, print_problems
from .plugins import register_plugins

__all__ = ["UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="smartcross", description="Open firmware and control "
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
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:            # --help (0), or an option refused (2, said once)
        return e.code if isinstance(e.code, int) else 2
    try:
        status = args.func(args)
        sys.stdout.flush()          # a closed pipe shows here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        # The reader went away (`smartcross ... | head`): stop quietly, as `cat` does. Point
        # stdout at /dev/null so that the interpreter's own flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141                  # 128 + SIGPIPE, what a shell shows for `cat`
    except ConfigError as e:
        print_problems(e.problems)
        return 2
    except (UsageError, SumoError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130
