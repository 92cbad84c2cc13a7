"""Signal plan design from flows: Webster's cycle and splits, offsets for green waves.

Pure functions on plain numbers, used by the importer (from counts or a route file) and
by the adaptive policies (from rolling detector counts).

    webster(y, lost)                        -> cycle s (Webster: C0 = (1.5 L + 5) / (1 − Y))
    splits(cycle, y, lost)                  -> green s per stage, in proportion to y
    offsets(order, links, flows, cycle)     -> offset s per intersection (green waves)
"""

from __future__ import annotations

SAT_THROUGH = 1800.0          # veh/h per lane (DOMAIN.md: static plans use 1700/1650)
SAT_TURN = 1650.0
STARTUP_LOSS_S = 2.0          # lost at the start of every green
Y_MAX = 0.9                   # beyond this Webster's formula says "redesign"


def webster(y_stages: list[float], lost_s: float, lo: float = 40.0, hi: float = 120.0) -> float:
    """Webster's optimum cycle for these critical flow ratios and lost time, in [lo, hi]."""
    total = min(sum(y_stages), Y_MAX)
    return min(max((1.5 * lost_s + 5.0) / (1.0 - total), lo), hi)


def splits(cycle_s: float, y_stages: list[float], lost_s: float) -> list[float]:
    """Effective greens in proportion to the critical flow ratios (equal when no flow)."""
    total = sum(y_stages)
    avail = max(cycle_s - lost_s, 0.0)
    if total <= 0:
        return [avail / len(y_stages)] * len(y_stages)
    return [avail * y / total for y in y_stages]


def offset_between(travel_ab: float, travel_ba: float, flow_ab: float, flow_ba: float,
                   cycle_s: float, lead_s: float = 2.0, balance: float = 0.15) -> float:
    """Offset of b relative to a (s, in [0, cycle)) for a green wave.

    One-way when one direction carries clearly more (by more than `balance`): b's main
    green starts when a's platoon arrives, `lead_s` early so that b's own queue has begun
    to move. Two-way when balanced: halfway between what each direction wants, on the
    shorter arc of the cycle circle.
    """
    want_ab = (travel_ab - lead_s) % cycle_s          # a→b platoon
    want_ba = (-(travel_ba - lead_s)) % cycle_s       # b→a platoon
    heavy = max(flow_ab, flow_ba)
    if heavy <= 0 or abs(flow_ab - flow_ba) / heavy > balance:
        return want_ab if flow_ab >= flow_ba else want_ba
    d = (want_ba - want_ab) % cycle_s
    if d > cycle_s / 2:
        d -= cycle_s
    return (want_ab + d / 2) % cycle_s


def offsets(signals: list[str], links: dict[tuple[str, str], float],
            flows: dict[tuple[str, str], float], cycle_s: float) -> dict[str, float]:
    """Offsets (s) for every signal: a spanning tree of the neighbour links, heaviest
    links first, each offset relative to the signal it is reached from.

    links: travel time stop line to stop line for each (a, b) joined by a road;
    flows: vehicles per hour on the main movement a → b (0 when unknown).
    """
    out: dict[str, float] = {}
    pairs = sorted({tuple(sorted(k)) for k in links},
                   key=lambda p: -(flows.get(p, 0.0) + flows.get(p[::-1], 0.0)))
    for root in signals:
        if root in out:
            continue
        out[root] = 0.0
        grown = True
        while grown:
            grown = False
            for a, b in pairs:
                if (a in out) == (b in out):
                    continue
                src, dst = (a, b) if a in out else (b, a)
                t_sd = links.get((src, dst), links.get((dst, src), 0.0))
                t_ds = links.get((dst, src), t_sd)
                rel = offset_between(t_sd, t_ds, flows.get((src, dst), 0.0),
                                     flows.get((dst, src), 0.0), cycle_s)
                out[dst] = (out[src] + rel) % cycle_s
                grown = True
    return {k: round(v) % round(cycle_s) for k, v in out.items()}
