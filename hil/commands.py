"""The rig's subcommands of `smartcross`: `hil` and `demo`, a plugin of the controller's CLI.

pyproject.toml names `register` in the entry-point group `smartcross.commands`; the
controller's CLI calls it with its subparsers and its shared options (see
controller/cli/plugins.py). The controller never imports hil: a cabinet install without
the rig simply has no `hil` or `demo` command.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path
from types import ModuleType

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "examples" / "corridor.toml"


def register(sub: argparse._SubParsersAction, shared: ModuleType) -> None:
    """Add `demo` and `hil` to `sub`; `shared` is controller.cli.options."""
    d = sub.add_parser("demo", help="the corridor on emulated boards, end to end",
                       description="Run the corridor example (examples/corridor.toml) on "
                       "emulated ESP32 nodes with the real firmware, one emulated RS-485 "
                       "line and the real cabinet service; traffic on the loops, the "
                       "independent monitor on the lamps; live status, a verdict at the end.")
    shared.add_duration(d, 60.0, "seconds (60; at most a day)", hi=shared.DAY_S)
    shared.add_seed(d)
    shared.add_json(d)
    shared.add_broker(d)
    d.set_defaults(func=partial(cmd_demo, shared))

    h = sub.add_parser("hil", help="run a HIL scenario, or serve one emulated node on a pty",
                       description="`smartcross hil SCENARIO` runs a scenario file (see "
                       "hil/scenarios/) on emulated boards with the real runtime and prints "
                       "the verdict; exit status 1 if it fails. `smartcross hil board "
                       "NODE_CONFIG` starts one emulated node on a new pty, prints `port: "
                       "/dev/pts/N` first and serves until interrupted. `smartcross hil "
                       "repl-board FS_DIR` does the same for an emulated ESP32 as mpremote "
                       "sees it over USB (MicroPython REPL, raw REPL; its filesystem is the "
                       "folder FS_DIR), for trying `smartcross flash` without a board.")
    h.add_argument("target", nargs="+",
                   metavar="SCENARIO | board NODE_CONFIG | repl-board FS_DIR")
    shared.add_json(h, "print the verdict as one JSON object")
    shared.add_plot(h, "timing diagram of the run")
    h.set_defaults(func=partial(cmd_hil, shared))


def cmd_demo(shared: ModuleType, args: argparse.Namespace) -> int:
    """The main job on its embedded default: the corridor on emulated boards."""
    from controller.config import load
    from controller.config.telemetry import parse_broker

    from .rig import environment_ok

    if args.broker:
        try:
            parse_broker(args.broker)
        except ValueError as e:
            raise shared.UsageError(f"--broker: {e}") from None
    cfg = load(DEMO_CONFIG)
    problem = environment_ok()
    if problem:
        raise shared.UsageError(f"the HIL rig cannot run here ({problem}); "
                         "`smartcross simulate examples/corridor.toml` runs without it")
    from .demo import run_demo

    result = run_demo(cfg, args.duration, args.seed, quiet=args.json, broker=args.broker)
    if args.json:
        print(json.dumps(result, indent=1))
    return 0 if result["verdict"] == "pass" else 1


def cmd_hil(shared: ModuleType, args: argparse.Namespace) -> int:
    if args.target and args.target[0] == "repl-board":
        if len(args.target) != 2:
            raise shared.UsageError("usage: smartcross hil repl-board FS_DIR")
        fs = Path(args.target[1])
        try:
            if fs.exists() and not fs.is_dir():
                raise NotADirectoryError(0, "not a folder")
            fs.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise shared.UsageError(f"{fs}: cannot be the emulated board's filesystem "
                                    f"({e.strerror or e}; FS_DIR is a folder, made if "
                                    "missing)") from None
        return _repl_board(str(fs))
    if args.target and args.target[0] == "board":
        if len(args.target) != 2:
            raise shared.UsageError("usage: smartcross hil board NODE_CONFIG")
        # the node's own parser first: a file the node would refuse is never served
        from controller.provisioning.node_file import read_node_json

        read_node_json(args.target[1])
        return _board(args.target[1])
    if len(args.target) != 1:
        raise shared.UsageError("usage: smartcross hil SCENARIO [--json] [--plot OUT.png]")
    return _scenario(shared, args)


def _repl_board(fs_dir: str) -> int:
    """An emulated ESP32 as mpremote sees it, its filesystem the folder `fs_dir`."""
    from .repl import main

    return main([fs_dir])


def _board(node_config: str) -> int:
    """One emulated node on a new pty."""
    from .emu.pty_board import serve_board_on_pty

    return serve_board_on_pty(node_config)


def _scenario(shared: ModuleType, args: argparse.Namespace) -> int:
    from .rig import environment_ok
    from .runner import run_scenario
    from .scenario import ScenarioError, load_scenario

    shared.require_plot(args)
    try:
        scn = load_scenario(args.target[0])
    except ScenarioError as e:
        shared.print_problems(e.problems)
        return 2
    problem = environment_ok()
    if problem:
        raise shared.UsageError(f"the HIL rig cannot run here: {problem}")
    try:
        verdict = run_scenario(scn, plot=args.plot)
    except (TimeoutError, RuntimeError, OSError) as e:
        # the rig itself failed (a board that never booted, a cabinet that never spoke): a
        # failed run, said in one line with where the rig left its logs
        print(f"error: {args.target[0]}: the rig could not run the scenario: {e}",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(verdict.to_json(), indent=1))
    else:
        print(verdict.summary())
    return 0 if verdict.passed else 1
