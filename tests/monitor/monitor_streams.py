"""Hand-built lamp streams for the monitor tests, independent of the simulator's lamp model.

A head's display is written as letters: R, A, G steady red, amber, green (combine them:
"RA" is red+amber), lower case for a flashing lamp ("g" flashing green, "a" flashing
amber, "r" flashing red / flashing don't walk), "" dark. Flashing follows the 1 Hz rule:
lit while (t_ms % 1000) < 500.
"""

from __future__ import annotations

import dataclasses
import random

from controller.config.monitor_table import monitor_table
from controller.config.profiles import PROFILES
from monitor import SignalMonitor
from protocols import aspects
from protocols.aspects import LAMP_AMBER, LAMP_GREEN, LAMP_RED

LAMP = {"R": LAMP_RED, "A": LAMP_AMBER, "G": LAMP_GREEN}


def bits(spec: str, ms: int) -> int:
    out = 0
    for ch in spec:
        if ch.isupper() or ms % 1000 < 500:
            out |= LAMP[ch.upper()]
    return out


def timeline(*segments, start: dict[str, str] | None = None) -> dict[str, list]:
    """(duration_s, {group: spec}) segments in order -> {group: [(from_ms, spec), ...]}.

    Groups not named in a segment keep showing what they showed before.
    """
    tl: dict[str, list] = {g: [(0, s)] for g, s in (start or {}).items()}
    ms = 0
    for duration, change in segments:
        for g, spec in change.items():
            tl.setdefault(g, []).append((ms, spec))
        ms += round(duration * 1000)
    tl["__end__"] = [(ms, "")]
    return tl


def end_ms(tl: dict[str, list]) -> int:
    return max(at for changes in tl.values() for at, _ in changes)


def samples(tl: dict[str, list], step_ms: int = 100, times_ms=None):
    """[(t_s, {group: bits})] at every step (or at the given times) up to the end."""
    groups = [g for g in tl if g != "__end__"]
    stop = end_ms(tl)
    times = times_ms if times_ms is not None else range(0, stop + 1, step_ms)
    out = []
    for ms in times:
        lamps = {}
        for g in groups:
            spec = ""
            for at, s in tl[g]:
                if at <= ms:
                    spec = s
            lamps[g] = bits(spec, ms)
        out.append((ms / 1000, lamps))
    return out


ASPECT = {"": aspects.DARK, "R": aspects.RED, "RA": aspects.RED_AMBER, "G": aspects.GREEN,
          "g": aspects.FLASH_GREEN, "A": aspects.AMBER, "a": aspects.FLASH_AMBER,
          "r": aspects.FLASH_RED}


def samples_via_aspects(tl: dict[str, list], offset_s: float):
    """The same stream drawn by the project's lamp model (`protocols.aspects.lamps`), at a
    time of day `offset_s`, with times summed in 0.1 s steps as a simulator would."""
    groups = [g for g in tl if g != "__end__"]
    out, t = [], offset_s
    for ms in range(0, end_ms(tl) + 1, 100):
        lamps = {}
        for g in groups:
            spec = ""
            for at, s in tl[g]:
                if at <= ms:
                    spec = s
            lamps[g] = aspects.lamps(ASPECT[spec], round(t * 1000))
        out.append((t, lamps))
        t += 0.1
    return out


def jittered_ms(stop_ms: int, seed: int = 1, lo: int = 60, hi: int = 160) -> list[int]:
    """Irregular sample times, as a HIL rig polling at its own pace."""
    rnd, ms, out = random.Random(seed), 0, []
    while ms <= stop_ms:
        out.append(ms)
        ms += rnd.randint(lo, hi)
    return out


def run(inter, stream, tolerance_s: float = 0.0):
    mon = SignalMonitor(monitor_table(inter), tolerance_s=tolerance_s)
    for t, lamps in stream:
        mon.feed(t, lamps)
    mon.finish(stream[-1][0])
    return mon.violations


def of(violations, kind: str):
    return [v for v in violations if v.kind == kind]


# -- model variants built by hand from a loaded configuration -------------------------

def with_profile(inter, name: str, ped_clear_s: float = 10.0):
    """The same junction with another country's signal sequence (EU or US)."""
    prof = PROFILES[name]
    groups = []
    for g in inter.groups:
        ped = g.kind == "pedestrian"
        groups.append(dataclasses.replace(
            g, profile=prof, amber_s=0.0 if ped else prof.amber_s,
            red_amber_s=0.0 if ped or not prof.red_amber else prof.red_amber_s,
            flash_green_s=prof.flash_green_s if prof.flash_green else 0.0,
            ped_clear_s=ped_clear_s if ped and prof.ped_clearance == "flash_red" else 0.0))
    change = {g.id: g.change_s for g in groups}
    intergreen = {k: max(v, float(-(-change[k[0]] // 1))) for k, v in inter.intergreen.items()}
    return dataclasses.replace(inter, profile=prof, groups=tuple(groups),
                               intergreen=intergreen)


def with_group(inter, gid: str, **changes):
    groups = tuple(dataclasses.replace(g, **changes) if g.id == gid else g
                   for g in inter.groups)
    return dataclasses.replace(inter, groups=groups)


# -- correct signal plans -------------------------------------------------------------

def safe_timeline(inter, cycles: int = 2, all_red_s: float = 3.0,
                  extra_s: float = 3.0) -> dict[str, list]:
    """Start-up flash, all red, then the stages in order, every rule of the model kept;
    greens last their minimum plus `extra_s`."""
    flash_s = inter.startup_flash_s
    ms = lambda s: round(s * 1000)  # noqa: E731
    groups = {g.id: g for g in inter.groups}
    flash = "r" if inter.flash_aspect == "red" else "a"
    tl = {g.id: [(0, "" if g.kind == "pedestrian" else flash)] for g in inter.groups}
    for gid in tl:
        tl[gid].append((ms(flash_s), "R"))
    end_of_green: dict[str, float] = {}
    red_from = {gid: flash_s for gid in tl}
    current: set[str] = set()
    t = flash_s + all_red_s
    for stage in list(inter.stages) * cycles:
        entering = [g for g in stage.groups if g not in current]
        for gid in sorted(current - set(stage.groups)):
            g = groups[gid]
            eog = t + g.flash_green_s
            if g.flash_green_s:
                tl[gid].append((ms(t), "g"))
            if g.kind == "pedestrian":
                if g.ped_clear_s:
                    tl[gid].append((ms(eog), "r"))
                tl[gid].append((ms(eog + g.ped_clear_s), "R"))
                red_from[gid] = eog + g.ped_clear_s
            else:
                tl[gid].append((ms(eog), "A"))
                tl[gid].append((ms(eog + g.amber_s), "R"))
                red_from[gid] = eog + g.amber_s
            end_of_green[gid] = eog
        start = t
        for b in entering:
            for a, eog in end_of_green.items():
                if (a, b) in inter.conflicts:
                    start = max(start, eog + inter.intergreen[(a, b)])
            start = max(start, red_from[b] + 1.0 + groups[b].red_amber_s)
        for b in entering:
            if groups[b].red_amber_s:
                tl[b].append((ms(start - groups[b].red_amber_s), "RA"))
            tl[b].append((ms(start), "G"))
        current = set(stage.groups)
        longest = max((groups[b].min_green_s for b in entering), default=0.0)
        t = start + longest + extra_s
    tl["__end__"] = [(ms(t), "")]
    return tl
