"""Build an intersection-group configuration (TOML) from a SUMO network.

    text = import_network(read_network(net, [detectors]), Options())

Per traffic light:

- signal groups per movement: the links that share an approach lane, or leave one
  approach in the same direction, show one signal (named by travel direction and turns,
  e.g. `EB_TR`, `EB_L`), and conflicts from SUMO's foe relations; a left turn that only
  gives way to the opposing stream becomes a permissive pair (conditionally compatible,
  docs/CONTROL.md) (`movements.py`);
- intergreens from the geometry of the paths through the junction, never shorter than
  amber plus the minimum red clearance (`intergreen.py`);
- detectors from the induction loops on the approach lanes, by distance to the stop line
  (`detectors.py`);
- stages that cover every group (the major road first, protected turns before the
  stage that runs them permissively) (`stages.py`), and plans; a coordinated plan for
  neighbouring signals (`coordination.py`).

`group_toml.py` writes the result; the caller checks it by loading it, so that it gets
text `smartcross check` accepts.
"""

from __future__ import annotations

from . import detectors
from .coordination import Coordination, coordinate
from .group_toml import document
from .intergreen import conflict_distances, intergreen_pair, intergreens, ped_clear_s
from .movements import Group, Junction, Options, relations, score, signal_groups
from .network import Network, Signal
from .stages import build_stages, main_stage
from .sumocfg import Demand

__all__ = ["Coordination", "Group", "Junction", "Options", "build_junction",
           "conflict_distances", "import_network", "intergreen_pair", "main_stage",
           "ped_clear_s"]


def build_junction(sig: Signal, opts: Options) -> Junction:
    groups = signal_groups(sig)
    for g in groups:
        g.score = score(g, sig)
    conflicts, permissive = relations(sig, groups, opts.permissive)
    yielding = {a for a, _ in permissive}
    top = max(g.score for g in groups if g.kind != "pedestrian")
    for g in groups:
        if g.kind == "pedestrian":
            continue
        g.kind = "arrow" if g.turning_only and g.id not in yielding else "vehicle"
        g.min_green_s = 5.0 if g.turning_only else (8.0 if g.score >= top - 1.0 else 6.0)
    geom, final = intergreens(sig, groups, conflicts, permissive, opts)
    stages = build_stages(groups, conflicts, permissive)
    return Junction(sig, groups, conflicts, permissive, geom, final, stages,
                    detectors.loops(sig, groups))


def import_network(net: Network, opts: Options, source: str = "",
                   demand: Demand | None = None) -> str:
    """The TOML text of the intersection group of every traffic light in `net`."""
    juncs = [build_junction(s, opts) for s in net.signals]
    coord = coordinate(juncs, net, demand, opts)
    # auto: coordinated for neighbouring signals when flows size its cycle; without
    # counts the adaptive plan (the coordinated one is still written, at 60 s)
    plan = opts.plan if opts.plan != "auto" else (
        "coordinated" if coord and (demand or opts.cycle_s) else "adaptive")
    if plan == "coordinated" and coord is None:
        plan = "adaptive"
    return document(juncs, coord, plan, opts, source)
