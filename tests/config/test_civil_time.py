"""The schedule follows local civil time: the group's `timezone`, daylight-saving changes
(Europe/Berlin spring forward 2026-03-29, fall back 2026-10-25), Asia/Almaty (UTC+6
until 2024-03-01, UTC+5 since, no daylight saving); all in virtual time."""

import datetime as dt
import os
import re
import subprocess
import sys

import pytest

from controller.cli import main
from controller.config import ConfigError, loads
from controller.config.civil import DEFAULT_DAY, Zone, run_clock
from controller.config.monitor_table import monitor_table
from controller.core import events as E
from controller.engine import GroupCore, Inputs
from controller.simulate import simulate
from monitor import SignalMonitor
from protocols import aspects as A

from sc_paths import ROOT

UTC = dt.UTC
EU = (ROOT / "examples" / "eu_junction.toml").read_text()
SCHEDULE = """
[[schedule]]
at = "00:00"
plan = "va"

[[schedule]]
at = "02:30"
plan = "fest"

[[schedule]]
at = "06:00"
plan = "va"
"""


def group(zone: str = "Europe/Berlin", schedule: str = SCHEDULE, text: str = EU):
    """The EU example with another zone and schedule."""
    text = re.sub(r'^timezone = ".*"$', f'timezone = "{zone}"', text, flags=re.M)
    text = re.sub(r"^\[\[schedule\]\]\n(?:.+\n)+?(?=\n)", "", text, flags=re.M)
    return loads(text + schedule, "eu-variant.toml")


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_the_variant_has_only_the_test_schedule():
    cfg = group()
    assert [(e.at_s, e.plan) for e in cfg.schedule] == [(0, "va"), (9000, "fest"), (21600, "va")]
    assert cfg.zone == Zone("Europe/Berlin")


def test_spring_forward_an_entry_in_the_skipped_hour_takes_effect_when_it_ends():
    cfg = group()
    # 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 does not exist
    assert cfg.plan_at(utc(2026, 3, 29, 0, 59, 59)) == "va"           # 01:59:59 CET
    assert cfg.plan_at(utc(2026, 3, 29, 1, 0, 0)) == "fest"           # 03:00 CEST
    assert cfg.plan_at(utc(2026, 3, 29, 3, 59, 59)) == "fest"         # 05:59:59 CEST
    assert cfg.plan_at(utc(2026, 3, 29, 4, 0, 0)) == "va"             # 06:00 CEST
    # naive local time read once would put 06:00 an hour late (05:00 UTC)
    zone = cfg.zone
    assert zone.instant(dt.date(2026, 3, 29), 9000) == utc(2026, 3, 29, 1).timestamp()
    assert zone.next_offset_change(utc(2026, 3, 28, 12).timestamp()) == \
        utc(2026, 3, 29, 1).timestamp()


def test_fall_back_an_entry_in_the_repeated_hour_takes_effect_once():
    cfg = group()
    # 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-03:00 comes twice
    assert cfg.plan_at(utc(2026, 10, 25, 0, 29, 59)) == "va"          # 02:29:59 CEST
    assert cfg.plan_at(utc(2026, 10, 25, 0, 30, 0)) == "fest"         # 02:30 CEST
    assert cfg.plan_at(utc(2026, 10, 25, 1, 15, 0)) == "fest"         # 02:15 CET, again
    assert cfg.plan_at(utc(2026, 10, 25, 4, 59, 59)) == "fest"        # 05:59:59 CET
    assert cfg.plan_at(utc(2026, 10, 25, 5, 0, 0)) == "va"            # 06:00 CET


def number(cfg, plan: str) -> int:
    """The plan's number in event 131 (its place in the file)."""
    return list(cfg.intersections[0].plans).index(plan) + 1


def pattern_changes(cfg, start: dt.datetime, hours: float) -> list[tuple[str, int]]:
    """(local wall time, plan number) of every plan change of a simulated run."""
    r = simulate(cfg, hours * 3600, seed=3, start=start)
    assert r.violations == []
    return [(cfg.zone.local(r.epoch + e.t).strftime("%H:%M:%S %Z"), e.param)
            for e in r.events if e.code == E.PATTERN_CHANGE]


@pytest.mark.parametrize("day", ["2026-03-29", "2026-10-25"])
def test_a_simulated_night_across_the_change_switches_at_the_wall_clock_times(day):
    cfg = group()
    start = cfg.zone.attach(dt.datetime.fromisoformat(f"{day}T01:00"))
    fest, va = number(cfg, "fest"), number(cfg, "va")
    expected = {"2026-03-29": [("03:00:00 CEST", fest), ("06:00:00 CEST", va)],
                "2026-10-25": [("02:30:00 CEST", fest), ("06:00:00 CET", va)]}[day]
    assert pattern_changes(cfg, start, 6) == expected


def test_almaty_moved_from_utc_plus_6_to_utc_plus_5_without_daylight_saving():
    cfg = group("Asia/Almaty")
    zone = cfg.zone
    assert zone.offset_s(utc(2024, 2, 28, 12).timestamp()) == 6 * 3600
    assert zone.offset_s(utc(2024, 3, 2, 12).timestamp()) == 5 * 3600
    assert cfg.plan_at(utc(2024, 2, 28, 0, 0)) == "va"                  # 06:00 +06
    assert cfg.plan_at(utc(2024, 3, 2, 0, 59)) == "fest"                # 05:59 +05
    assert cfg.plan_at(utc(2024, 3, 2, 1, 0)) == "va"                   # 06:00 +05
    for month in range(1, 13):                  # no daylight saving in 2026
        u = utc(2026, month, 1).timestamp()
        assert zone.offset_s(u) == 5 * 3600
        assert zone.next_offset_change(u, 31 * 86400) is None
    start = zone.attach(dt.datetime(2026, 6, 1, 1, 0))
    assert pattern_changes(cfg, start, 6) == [("02:30:00 +05", number(cfg, "fest")),
                                              ("06:00:00 +05", number(cfg, "va"))]


def test_a_fixed_time_cycle_follows_civil_time_through_the_change_smoothly():
    """A cycle of 84 s: the hour skipped moves civil time by 3600 s = 42 cycles + 72 s
    against the core's time. The cycle keeps its place, then moves to the civil reference
    by at most a fifth of a cycle per cycle: no cycle is cut short."""
    text = EU.replace("cycle_s = 80", "cycle_s = 84")
    cfg = group(schedule='[[schedule]]\nat = "00:00"\nplan = "fest"\n', text=text)
    plan = cfg.intersections[0].plans["fest"]
    main = cfg.intersections[0].stage(plan.main_stage).groups[0]
    number = cfg.intersections[0].group(main).number
    start = cfg.zone.attach(dt.datetime(2026, 3, 29, 0, 30))
    r = simulate(cfg, 4 * 3600, seed=3, start=start)
    assert r.violations == []
    starts = [e.t for e in r.events if e.code == E.BEGIN_GREEN and e.param == number][3:]
    wall = [r.epoch + t + cfg.zone.offset_s(r.epoch + t) for t in starts]
    phase = [round(w % 84, 1) for w in wall]
    change = utc(2026, 3, 29, 1).timestamp() - r.epoch
    before = {p for t, p in zip(starts, phase) if t < change}
    after = {p for t, p in zip(starts, phase) if t > change + 5 * 84}
    assert len(before) == 1 and after == before      # the same place on the wall clock
    gaps = [round(b - a, 1) for a, b in zip(starts, starts[1:])]
    # 3600 s = 72 s ahead = 12 s back: one cycle 12 s longer, every other one as planned
    assert sorted(set(gaps)) == [84.0, 96.0] and gaps.count(96.0) == 1


def test_a_clock_step_moves_a_running_cycle_smoothly():
    cfg = group(schedule='[[schedule]]\nat = "00:00"\nplan = "fest"\n')
    iid = cfg.intersections[0].id
    core = GroupCore(cfg, start=3600.0, epoch=cfg.zone.instant(DEFAULT_DAY, 0.0))
    policy = core.cores[iid].policy
    k = 36000
    while core.cores[iid].mode != "run":
        core.step(k / 10)
        k += 1
    before = policy.cycle_time(k)
    core.set_epoch(core.epoch + 25.0)            # the cabinet's clock stepped 25 s ahead
    core.plan_for(k / 10)
    assert core.ref == 250
    assert policy.cycle_time(k) == before        # no jump: the shift is absorbed later
    assert policy.clock.shift == 250
    for j in range(k, k + 3 * 800):              # three cycles of 80 s
        core.step(j / 10)
    assert policy.clock.shift == 0
    assert policy.cycle_time(j) == (j + 250 - policy.offset) % 800
    assert core.cores[iid].mode == "run"


def test_simulate_start_with_or_without_offset_and_the_plan_at_the_start(tmp_path, capsys):
    path = tmp_path / "eu.toml"
    path.write_text(EU)
    assert main(["simulate", str(path), "--duration", "60",
                 "--start", "2026-03-29T07:00"]) == 0      # a Sunday
    out = capsys.readouterr().out
    assert "from 2026-03-29 07:00:00 CEST (UTC+0200) [Europe/Berlin], plan va running" in out
    assert main(["simulate", str(path), "--duration", "60", "--start",
                 "2026-03-30T05:30:00+00:00"]) == 0        # Monday 07:30 CEST
    assert "from 2026-03-30 07:30:00 CEST (UTC+0200) [Europe/Berlin], plan fest running" \
        in capsys.readouterr().out
    assert main(["simulate", str(path), "--duration", "60", "--start", "yesterday"]) == 2
    assert "--start: expected HH:MM or an ISO date-time" in capsys.readouterr().err


def test_a_bad_time_zone_is_a_located_error_with_status_2(tmp_path, capsys):
    with pytest.raises(ConfigError) as e:
        group("Europe/Atlantis")
    [p] = e.value.problems
    assert p.path == "timezone" and "'Europe/Atlantis'" in p.message
    path = tmp_path / "eu.toml"
    path.write_text(EU.replace('timezone = "Europe/Berlin"', 'timezone = "../../etc/passwd"'))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: timezone: is '../../etc/passwd', not an IANA time zone name" in err


def test_run_clock_counts_from_the_local_midnight():
    zone = Zone("Europe/Berlin")
    epoch, start_s = run_clock(zone, zone.attach(dt.datetime(2026, 3, 29, 7, 0)))
    assert epoch == utc(2026, 3, 28, 23).timestamp()       # 00:00 CET
    assert start_s == 6 * 3600                             # 07:00 CEST: six hours later


def test_event_stepping_equals_every_tick_across_a_daylight_saving_change():
    cfg = group(schedule='[[schedule]]\nat = "00:00"\nplan = "fest"\n')
    start = cfg.zone.attach(dt.datetime(2026, 10, 25, 2, 20))     # CEST, before the change
    fast = simulate(cfg, 1800, seed=4, start=start)
    slow = simulate(cfg, 1800, seed=4, start=start, every_tick=True)
    assert fast.events == slow.events and fast.violations == slow.violations == []


def test_a_coordinated_cycle_follows_the_spring_change_smoothly():
    """Coordinated, cycle 70 s: the skipped hour moves civil time 3600 s = 51 cycles + 30 s
    against the core's time; the cycle re-syncs within a few cycles, none cut short by
    more than a fifth, and the monitor sees nothing wrong."""
    sys.path.insert(0, str(ROOT / "tests" / "control"))
    from control_junction import junction_toml

    cfg = loads('timezone = "Europe/Berlin"\n' + junction_toml("coordinated"), "coord.toml")
    inter = cfg.intersections[0]
    epoch = cfg.zone.instant(dt.date(2026, 3, 29), 0.0)
    change = utc(2026, 3, 29, 1).timestamp() - epoch              # 3600 s of core time
    core = GroupCore(cfg, start=1800.0, epoch=epoch)
    x = core.cores["X"]
    monitor = SignalMonitor(monitor_table(inter))
    loops = sorted(d.id for d in inter.detectors)
    yields, served = [], []        # the main stage's ends (force-off); begin greens
    for k in range(18000, 18000 + 2 * 36000):     # 00:30 CET to 03:30 CEST
        t = k / 10
        on = frozenset(loops) if k % 300 < 20 else frozenset()   # a platoon every 30 s
        out = core.step(t, {"X": Inputs(on)})["X"]
        monitor.feed(t, {g: A.lamps(a, k * 100) for g, a in out.aspects.items()})
        if any(e.code == E.FORCE_OFF and e.param == inter.group("EB_TR").number
               for e in out.events):
            yields.append(t)
        served += [(t, e.code, e.param) for e in out.events if e.code == E.BEGIN_GREEN]
    monitor.finish(k / 10)
    assert monitor.violations == []
    clock = x.policy.clock
    assert clock.ref == 36000 and clock.shift == 0            # on civil time again
    wall = [epoch + t + cfg.zone.offset_s(epoch + t) for t in yields]
    before = {round((w - 13) % 70, 1) for w, t in zip(wall, yields) if t < change}
    after = {round((w - 13) % 70, 1) for w, t in zip(wall, yields) if t > change + 5 * 70}
    assert len(before) == 1 and after == before   # the yield point, on the wall clock
    gaps = [round(b - a, 1) for a, b in zip(yields, yields[1:])]
    # 30 s forward, absorbed in the main stage's green: 14 + 14 + 2 s shorter cycles
    assert sorted(g for g in gaps if g != 70.0) == [56.0, 56.0, 68.0]
    side = [t for t, code, p in served if p == inter.group("NB_TR").number]
    assert all(any(a < t < b for t in side) for a, b in zip(yields, yields[1:]))


def test_without_the_key_the_computers_own_zone_with_its_daylight_saving(tmp_path):
    path = tmp_path / "eu.toml"
    path.write_text(EU.replace('timezone = "Europe/Berlin"\n', ""))
    out = subprocess.run([sys.executable, "-m", "controller.cli", "simulate", str(path),
                          "--duration", "60", "--start", "2026-03-29T07:00"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**os.environ, "TZ": "Europe/Berlin"})
    assert out.returncode == 0, out.stderr
    assert "from 2026-03-29 07:00:00 CEST (UTC+0200) [local], plan va running" in out.stdout
