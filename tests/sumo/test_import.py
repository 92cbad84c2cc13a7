"""import-sumo on the shared scenarios and on networks it has never seen."""

import pytest
from sumo_helpers import KIT, generated_fixture, kit_fixture, smartcross  # noqa: F401

from controller.config import load
from controller.sumo.network import read_network

pytestmark = pytest.mark.sumo


def _import(tmp_path, net, det, *extra):
    out = tmp_path / "group.toml"
    r = smartcross("import-sumo", net, "--detectors", det, "-o", out, *extra)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    chk = smartcross("check", out)
    assert chk.returncode == 0, chk.stderr
    return load(out)


def _covers_sumo(cfg, net_path):
    """Every SUMO link is driven by exactly one group, and every SUMO foe pair is a
    conflict or a declared permissive pair (never silently compatible)."""
    net = read_network(net_path)
    for inter in cfg.intersections:
        sig = next(s for s in net.signals if s.id == inter.sumo.tls)
        owner = {i: g for g, idx in inter.sumo.links.items() for i in idx}
        assert sorted(owner) == list(range(sig.size))
        for a, b in sig.foes:
            ga, gb = owner[a], owner[b]
            if ga != gb:
                assert (ga, gb) in inter.conflicts or (ga, gb) in inter.permissive \
                    or (gb, ga) in inter.permissive, (inter.id, a, b)
        for (a, _), v in inter.intergreen.items():
            assert v >= inter.group(a).amber_s + 2.0


@pytest.mark.parametrize("scenario, signals", [("single", 1), ("corridor", 3)])
def test_shared_scenarios(tmp_path, kit, scenario, signals):
    d = KIT / "scenarios" / scenario
    cfg = _import(tmp_path, d / f"{scenario}.net.xml", d / f"{scenario}.det.add.xml")
    assert len(cfg.intersections) == signals
    _covers_sumo(cfg, str(d / f"{scenario}.net.xml"))
    for inter in cfg.intersections:
        assert len(inter.groups) == 8 and len(inter.detectors) == 16
        # lefts give way to the opposing through, and run protected after it (lagging)
        assert ("EB_L", "WB_TR") in inter.permissive and ("WB_L", "EB_TR") in inter.permissive
        stages = [set(s.groups) for s in inter.stages]
        assert stages.index({"EB_L", "WB_L"}) == stages.index(
            {"EB_TR", "WB_TR", "EB_L", "WB_L"}) + 1
        # beyond capacity the stages may grow to 1.6 x their green limit (Maximum 2);
        # the actuated plan has none
        for pid in [p for p in ("adaptive", "coordinated") if p in inter.plans]:
            main = inter.plans[pid].main_stage
            assert inter.plans[pid].stages[main].max2_green_s == 80
            assert all(sp.max2_green_s >= sp.max_green_s
                       for sp in inter.plans[pid].stages.values())
        assert all(sp.max2_green_s is None for sp in inter.plans["actuated"].stages.values())
    if signals > 1:        # no counts given: the adaptive plan runs, a coordinated one waits
        assert cfg.plan_at(8 * 3600) == "adaptive"
        assert cfg.intersections[0].plans["coordinated"].cycle_s == 60


@pytest.mark.parametrize("name", ["tee", "uneven", "fiveleg", "crossings"])
def test_networks_never_seen(tmp_path, generated, name):
    n = generated[name]
    cfg = _import(tmp_path, n.net, n.detectors, "--routes", n.routes)
    assert sorted(i.sumo.tls for i in cfg.intersections) == sorted(n.signals)
    _covers_sumo(cfg, n.net)
    for inter in cfg.intersections:
        staged = {g for s in inter.stages for g in s.groups}
        assert staged == {g.id for g in inter.groups}


def test_tee_has_a_permissive_left_and_its_protected_stage(tmp_path, generated):
    n = generated["tee"]
    cfg = _import(tmp_path, n.net, n.detectors)
    inter = cfg.intersections[0]
    (a, b), = inter.permissive
    assert (a, b) in inter.intergreen and (b, a) in inter.intergreen
    assert [a] in [list(s.groups) for s in inter.stages]


def test_crossings_become_pedestrian_groups(tmp_path, generated):
    """Signalled crossings: pedestrian groups with a flashing don't walk for the whole
    crossing, turning traffic giving way to them, walking with the parallel stream."""
    n = generated["crossings"]
    cfg = _import(tmp_path, n.net, n.detectors)
    inter = cfg.intersections[0]
    peds = [g for g in inter.groups if g.is_pedestrian]
    assert len(peds) == 3 and all(g.ped_clear_s >= 4 for g in peds)
    assert any(b == p.id for _, b in inter.permissive for p in peds)
    main = inter.stage(inter.plans["adaptive"].main_stage)
    assert any(inter.group(g).is_pedestrian for g in main.groups)
    assert all(inter.plans["adaptive"].stages[s.id].recall == "ped" for s in inter.stages
               if any(inter.group(g).is_pedestrian for g in s.groups))


def test_uneven_corridor_gets_offsets_for_green_waves(tmp_path, generated):
    n = generated["uneven"]
    cfg = _import(tmp_path, n.net, n.detectors, "--routes", n.routes)
    plans = [i.plans["coordinated"] for i in cfg.intersections]
    assert len({p.cycle_s for p in plans}) == 1
    assert len({p.offset_s for p in plans}) > 1
    assert cfg.plan_at(7 * 3600) == "coordinated"


def test_without_permissive_every_foe_is_a_conflict(tmp_path, kit):
    d = KIT / "scenarios" / "single"
    cfg = _import(tmp_path, d / "single.net.xml", d / "single.det.add.xml", "--no-permissive")
    assert not cfg.intersections[0].permissive


@pytest.mark.parametrize("args, message", [
    (["/nonexistent.net.xml", "-o", "x.toml"], "cannot read the network"),
    (["--amber", "2", "NET", "-o", "x.toml"], "--amber must be at least 3 s"),
])
def test_errors_are_messages(tmp_path, generated, args, message):
    args = [a if a != "NET" else generated["tee"].net for a in args]
    r = smartcross("import-sumo", *args, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_network_without_signals(tmp_path):
    p = tmp_path / "x.net.xml"
    p.write_text('<net version="1.20"><edge id="a" from="A" to="B"><lane id="a_0" index="0" '
                 'speed="13.89" length="100" shape="0,0 100,0"/></edge></net>')
    r = smartcross("import-sumo", p, "-o", tmp_path / "x.toml")
    assert r.returncode == 2 and "no traffic lights" in r.stderr
