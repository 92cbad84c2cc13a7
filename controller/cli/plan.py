"""`plan apply`: new timing plans and schedule for a running service, without a restart.

    smartcross plan apply CONFIG [--data DIR] [--by NAME] [--timeout S]

1. CONFIG is checked whole (bad: every problem with its key path, exit 2, nothing sent);
2. the running service is found through its status (`--data`, or the folder of CONFIG's
   name, as for `run` and `status`); none running: exit 1;
3. CONFIG is compared with what the service runs (the fingerprints in its status,
   runtime/plans.py): safety-relevant parts (buses, signal groups, conflicts,
   intergreens, start-up and flash, nodes, safety tables) cannot change on a running
   service: exit 2 with a message to re-provision; parts read only at start: exit 2 with
   a message to restart;
4. a request (id, who: `--by` or the user from the environment, the file) is left next to
   the status and the service gets SIGHUP; it checks everything again itself and
   applies the plans at a cycle boundary (runtime/reload.py);
5. the command waits for the service's record row of that request: applied or unchanged
   (exit 0, the diff of the plans printed), refused (exit 2, why), or no answer within
   the timeout (exit 1). The default timeout allows two of the longest cycles and a
   margin, scaled by the `--time-scale` the service runs at.
"""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import sys
import time

from ..config import load
from . import options as o
from .options import UsageError

MARGIN_S = 30.0              # on top of two cycles: a loaded cabinet, a slow disk
POLL_S = 0.1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="timing plans of a running service")
    psub = p.add_subparsers(dest="plan_command", required=True, metavar="COMMAND")
    a = psub.add_parser("apply", help="load new plans and schedule into the running service",
                        description="Check CONFIG, compare it with what the running service "
                        "runs, and have the service apply its timing plans and schedule at a "
                        "cycle boundary, without a restart. Safety-relevant changes are "
                        "refused (re-provision). Exit status: 0 applied or unchanged, 2 bad "
                        "or refused, 1 the service is not running or did not answer in time.")
    o.add_config(a)
    o.add_data(a)
    a.add_argument("--by", help="who makes the change, for the record (default: $SUDO_USER, "
                   "$USER, or the login name)")
    a.add_argument("--timeout", type=o.Number(0, 86400, above=True, unit="s"), metavar="S",
                   help="seconds to wait for the service (default: two of the longest "
                   "cycles + 30 s)")
    a.set_defaults(func=cmd_plan_apply)


def who(by: str | None) -> str:
    if by:
        return by
    for var in ("SUDO_USER", "USER", "LOGNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def cmd_plan_apply(args: argparse.Namespace) -> int:
    from ..runtime.plans import differences, fingerprint, longest_cycle_s, refusal
    from ..runtime.record import plan_change_outcome
    from ..runtime.reload import write_request
    from ..runtime.service import data_dir
    from ..runtime.status import read_status

    cfg = load(args.file)
    data = data_dir(cfg, args.data)
    doc, problem = read_status(data)
    if doc is None:                   # never ran with this folder: bad input, as `status`
        raise UsageError(f"no service to apply to: {problem}")
    if problem:
        print(f"error: no running service to apply to: {problem}", file=sys.stderr)
        return 1
    running = doc.get("fingerprint")
    if running:
        why = refusal(*differences(running, fingerprint(cfg)))
        if why:
            print(f"error: {args.file}: {why}", file=sys.stderr)
            return 2
    scale = float(doc.get("time_scale") or 1.0)
    timeout = args.timeout or (2 * longest_cycle_s(cfg) / scale + MARGIN_S)
    req = write_request(data, who(args.by), args.file)
    try:
        os.kill(int(doc["pid"]), signal.SIGHUP)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: cannot signal the service (pid {doc.get('pid')}): {e}", file=sys.stderr)
        return 1
    print(f"plan change {req.id[:8]} by {req.by} sent to the service (pid {doc['pid']}); "
          f"waiting up to {timeout:.0f} s for a cycle boundary", file=sys.stderr)
    end = time.monotonic() + timeout
    db = data / "record.sqlite"
    while time.monotonic() < end:
        got = plan_change_outcome(db, req.id)
        if got is not None:
            outcome, message, diff = got
            if diff:
                print(diff)
            print(f"{outcome}: {message}", file=sys.stderr)
            return 2 if outcome == "refused" else 0
        time.sleep(POLL_S)
    print(f"error: the service did not answer plan change {req.id[:8]} within {timeout:.0f} s; "
          "see its log and `smartcross status`", file=sys.stderr)
    return 1
