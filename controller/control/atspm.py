"""ATSPM performance measures from an Indiana event log (the controller's own events).

Per intersection and phase (signal group number), the way ATSPM computes them:

- split monitor: cycles, mean green, gap-outs / max-outs / force-offs (events 1, 4-8);
- arrivals on green: advance-detector actuations (event 82) during the phase's green,
  as a share of all its arrivals, and the platoon ratio (that share over g/C);
- split failures: a cycle whose stop-bar occupancy is over 79 % both during the green
  (GOR) and in the first 5 s of the following red (ROR5);
- green-time utilisation: the mean green occupancy ratio, and vehicles served per second
  of green per lane against a saturation flow of 0.5 veh/s;
- the Purdue coordination diagram: each advance arrival placed at its time in the cycle
  (cycles start when the phase turns red), with the green and yellow onsets.

Detectors map to phases through the configuration (`calls` / `extends`); advance loops are
`counting` detectors, stop-bar loops `presence` detectors (import-sumo writes them so).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..config.model import COUNTING, PRESENCE, GroupConfig, Intersection
from ..core import events as E

SPLIT_FAIL = 0.79
ROR_WINDOW_S = 5.0
SAT_PER_LANE = 0.5


@dataclass
class _Phase:
    greens: list[tuple[float, float]] = field(default_factory=list)     # (begin, yellow)
    reds: list[float] = field(default_factory=list)                    # red onsets
    ends: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def _intervals(events, number: int) -> list[tuple[float, float]]:
    """On intervals of one detector channel from its 82/81 events."""
    out, on = [], None
    for t, code in events.get(number, ()):
        if code == E.DETECTOR_ON and on is None:
            on = t
        elif code == E.DETECTOR_OFF and on is not None:
            out.append((on, t))
            on = None
    if on is not None:
        out.append((on, on + 1.0))
    return out


def _occupied(intervals: list[tuple[float, float]], lo: float, hi: float) -> float:
    """Seconds of [lo, hi) covered by the union of the intervals (sorted by start)."""
    total, cur_lo, cur_hi = 0.0, None, None
    for a, b in intervals:
        a, b = max(a, lo), min(b, hi)
        if b <= a:
            continue
        if cur_hi is None or a > cur_hi:
            if cur_hi is not None:
                total += cur_hi - cur_lo
            cur_lo, cur_hi = a, b
        else:
            cur_hi = max(cur_hi, b)
    if cur_hi is not None:
        total += cur_hi - cur_lo
    return total


def _detectors(inter: Intersection):
    """Per phase number: (advance detector numbers, stop-bar detector numbers)."""
    num = {g.id: g.number for g in inter.groups}
    adv, stop = defaultdict(list), defaultdict(list)
    for d in inter.detectors:
        for gid in dict.fromkeys(d.extends + d.calls):
            if d.kind == COUNTING:
                adv[num[gid]].append(d.number)
            elif d.kind == PRESENCE:
                stop[num[gid]].append(d.number)
    return adv, stop


def measures(cfg: GroupConfig, events) -> dict:
    """{intersection: {phase group id: {measure: value}}} from a run's events."""
    by_inter = defaultdict(list)
    for e in events:
        by_inter[e.intersection].append(e)
    out = {}
    for inter in cfg.intersections:
        evs = by_inter.get(inter.id, [])
        phases, det = _split(evs)
        adv, stop = _detectors(inter)
        res = {}
        for g in inter.groups:
            p = phases.get(g.number)
            if p is None or not p.greens:
                continue
            n = len(p.greens)
            green_s = sum(b - a for a, b in p.greens)
            span = (p.greens[-1][0] - p.greens[0][0]) if n > 1 else 0.0
            cycle = span / (n - 1) if n > 1 else 0.0
            m = {"cycles": n, "mean_green_s": round(green_s / n, 1),
                 "mean_cycle_s": round(cycle, 1),
                 "gap_out": p.ends[E.GAP_OUT], "max_out": p.ends[E.MAX_OUT],
                 "force_off": p.ends[E.FORCE_OFF]}
            arrivals = sorted(t for d in adv.get(g.number, ()) for t, c in det.get(d, ())
                              if c == E.DETECTOR_ON)
            if arrivals:
                on_green = sum(1 for t in arrivals if _inside(t, p.greens))
                m["arrivals"] = len(arrivals)
                m["arrivals_on_green_pct"] = round(100.0 * on_green / len(arrivals), 1)
                if cycle > 0:
                    gc = green_s / n / cycle
                    m["platoon_ratio"] = round(on_green / len(arrivals) / gc, 2) if gc else None
            sb = [_intervals(det, d) for d in stop.get(g.number, ())]
            if sb:
                merged = sorted(iv for ivs in sb for iv in ivs)
                fails, gors = 0, []
                reds = sorted(p.reds)
                for a, y in p.greens:
                    gor = _occupied(merged, a, y) / (y - a) if y > a else 0.0
                    gors.append(gor)
                    red = next((r for r in reds if r >= y), None)
                    if red is not None:
                        ror = _occupied(merged, red, red + ROR_WINDOW_S) / ROR_WINDOW_S
                        fails += gor > SPLIT_FAIL and ror > SPLIT_FAIL
                served = sum(1 for ivs in sb for a, _ in ivs if _inside(a, p.greens))
                m["split_failures"] = fails
                m["green_occupancy_pct"] = round(100.0 * sum(gors) / len(gors), 1)
                m["green_utilisation_pct"] = round(
                    100.0 * served / max(green_s * len(sb) * SAT_PER_LANE, 1e-9), 1)
            res[g.id] = m
        out[inter.id] = res
    return out


def _inside(t: float, greens: list[tuple[float, float]]) -> bool:
    lo, hi = 0, len(greens)
    while lo < hi:                      # the last green beginning at or before t
        mid = (lo + hi) // 2
        if greens[mid][0] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo > 0 and t < greens[lo - 1][1]


def _split(evs):
    phases: dict[int, _Phase] = defaultdict(_Phase)
    det: dict[int, list] = defaultdict(list)
    begun: dict[int, float] = {}
    for e in evs:
        c = e.code
        if c == E.BEGIN_GREEN:
            begun[e.param] = e.t
        elif c == E.BEGIN_YELLOW and e.param in begun:
            phases[e.param].greens.append((begun.pop(e.param), e.t))
        elif c == E.BEGIN_RED_CLEARANCE:
            phases[e.param].reds.append(e.t)
        elif c in (E.GAP_OUT, E.MAX_OUT, E.FORCE_OFF):
            phases[e.param].ends[c] += 1
        elif c in (E.DETECTOR_ON, E.DETECTOR_OFF):
            det[e.param].append((e.t, c))
    return phases, det


def format_measures(m: dict) -> str:
    lines = ["  ATSPM measures per phase (from the event log):",
             "    phase      cycles  green  cycle  gap/max/force  AoG%  PR    SF  GOR%  util%"]
    for iid, phases in m.items():
        for gid, x in phases.items():
            lines.append(
                f"    {iid}/{gid:<8} {x['cycles']:>5} {x['mean_green_s']:>6.1f} "
                f"{x['mean_cycle_s']:>6.1f}  {x['gap_out']:>4}/{x['max_out']}/{x['force_off']:<5}"
                f" {_f(x.get('arrivals_on_green_pct'))} {_f(x.get('platoon_ratio'), 5)}"
                f" {x.get('split_failures', '-'):>3} {_f(x.get('green_occupancy_pct'))}"
                f" {_f(x.get('green_utilisation_pct'))}")
    return "\n".join(lines)


def _f(v, w: int = 5) -> str:
    return f"{'-':>{w}}" if v is None else f"{v:>{w}}"


def coordination_points(evs, number: int, advance: Iterable[int]) -> dict:
    """The Purdue coordination diagram of one phase as data: `arrivals` (advance-loop
    actuations), `green` and `yellow` onsets, each (time s, seconds since the cycle began,
    cycles beginning when the phase turns red). The plot below and the city's page draw it."""
    ph, det = _split(evs)
    p = ph.get(number, _Phase())
    reds = sorted(p.reds)
    arrivals = sorted(t for d in advance for t, c in det.get(d, ()) if c == E.DETECTOR_ON)
    out: dict[str, list[tuple[float, float]]] = {"arrivals": [], "green": [], "yellow": []}
    k = 0
    for t in arrivals:
        while k + 1 < len(reds) and reds[k + 1] <= t:
            k += 1
        if reds and reds[k] <= t:
            out["arrivals"].append((t, round(t - reds[k], 1)))
    for i, r in enumerate(reds[:-1]):
        nxt = reds[i + 1]
        for a, y in p.greens:
            if r <= a < nxt:
                out["green"].append((a, round(a - r, 1)))
                out["yellow"].append((y, round(y - r, 1)))
    return out


def advance_detectors(inter) -> dict[int, list[int]]:
    """Per phase number, its advance (counting) detector numbers."""
    return _detectors(inter)[0]


def coordination_diagram(cfg: GroupConfig, events, path: str, start_s: float = 0.0,
                         phases: dict[str, str] | None = None) -> None:
    """Purdue coordination diagrams, one panel per intersection: its main stage's first
    group with advance detectors, unless `phases` names one per intersection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_inter = defaultdict(list)
    for e in events:
        by_inter[e.intersection].append(e)
    panels = []
    for inter in cfg.intersections:
        adv, _ = _detectors(inter)
        gid = (phases or {}).get(inter.id)
        if gid is None:
            plan = next(iter(inter.plans.values()))
            cands = list(inter.stage(plan.main_stage).groups) + [g.id for g in inter.groups]
            gid = next((g for g in cands if adv.get(inter.group(g).number)), cands[0])
        panels.append((inter, inter.group(gid)))
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 3.2 * len(panels)), squeeze=False)
    for ax, (inter, g) in zip(axes[:, 0], panels):
        pts = coordination_points(by_inter.get(inter.id, []), g.number,
                                  advance_detectors(inter).get(g.number, ()))
        xs = [(t - start_s) / 60.0 for t, _ in pts["arrivals"]]
        ys = [c for _, c in pts["arrivals"]]
        gx = [(t - start_s) / 60.0 for t, _ in pts["green"]]
        gy = [c for _, c in pts["green"]]
        yx = [(t - start_s) / 60.0 for t, _ in pts["yellow"]]
        yy = [c for _, c in pts["yellow"]]
        aog = measures(_only(cfg, inter), [e for e in by_inter.get(inter.id, [])]
                       ).get(inter.id, {}).get(g.id, {}).get("arrivals_on_green_pct")
        ax.scatter(xs, ys, s=3, c="k", label="arrivals (advance loops)")
        ax.plot(gx, gy, c="g", lw=1.2, label="green onset")
        ax.plot(yx, yy, c="orange", lw=1.2, label="yellow onset")
        ax.set_ylabel("cycle time (s)")
        ax.set_title(f"{inter.id} phase {g.number} ({g.id}) — arrivals on green "
                     f"{aog if aog is not None else '-'} %")
        ax.legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("minutes")
    fig.suptitle(f"Purdue coordination diagram — {cfg.name}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _only(cfg: GroupConfig, inter: Intersection) -> GroupConfig:
    from dataclasses import replace

    return replace(cfg, intersections=(inter,))
