"""smartcross sumo: the core drives SUMO, the monitor watches, the shared checker agrees.

Short runs (a few hundred simulated seconds), each in its own process: libsumo runs one
simulation per process.
"""

import csv
import json
import subprocess
import sys

import pytest
import sumo_nets
from sumo_helpers import KIT, generated_fixture, kit_fixture, smartcross  # noqa: F401

pytestmark = pytest.mark.sumo


def _safety_log(tmp_path):
    log = tmp_path / "tlsstates.xml"
    add = tmp_path / "extra.add.xml"
    add.write_text(f'<additional><timedEvent type="SaveTLSSwitchStates" dest="{log}"/>'
                   '</additional>\n')
    return add, log


def _tls_log(path):
    import xml.etree.ElementTree as ET

    out = {}
    for el in ET.parse(path).getroot().iter("tlsState"):
        out.setdefault(el.get("id"), []).append((float(el.get("time")), el.get("state")))
    return out


def _run(tmp_path, sumocfg, *extra):
    ti = tmp_path / "tripinfo.xml"
    r = smartcross("sumo", "--sumocfg", sumocfg, "--tripinfo", ti, "--json", *extra,
                   timeout=300)
    assert "Traceback" not in r.stderr, r.stderr
    return r, ti


@pytest.mark.parametrize("name", ["tee", "uneven", "fiveleg", "crossings"])
def test_imports_itself_and_runs_safely(tmp_path, generated, name):
    n = generated[name]
    add, log = _safety_log(tmp_path)
    r, ti = _run(tmp_path, n.sumocfg, "--end", "300", "--additional", add)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["violations"] == [] and out["sim_end_s"] == 300
    assert ti.exists() and "<tripinfo " in ti.read_text()
    states = _tls_log(log)
    assert sorted(states) == sorted(n.signals)
    for tls, seq in states.items():
        assert any("G" in s or "g" in s for _, s in seq), tls     # it ran, not just flashed
    if name == "crossings":                                         # pedestrians got across
        assert ti.read_text().count("<personinfo ") > 20


def test_shared_contract_and_checker(tmp_path, kit):
    """The shared runner's contract on the single scenario: its run configuration, the
    route file, the seed and the safety log, checked by the kit's own SafetyMonitor."""
    d = KIT / "scenarios" / "single"
    routes = tmp_path / "r.rou.xml"
    subprocess.run([sys.executable, str(KIT / "demand.py"), "single", "--variant", "peak",
                    "--seed", "2", "-o", str(routes)], check=True, capture_output=True)
    add, log = _safety_log(tmp_path)
    ti, stats = tmp_path / "tripinfo.xml", tmp_path / "stats.xml"
    cfg = tmp_path / "run.sumocfg"
    kit.write_run_config(str(cfg), str(d / "single.net.xml"), str(routes),
                         [str(d / "single.det.add.xml"), str(add)], 2, str(ti), str(stats),
                         end=600)
    r = smartcross("sumo", "--sumocfg", cfg, "--routes", routes, "--seed", 2, "--tripinfo", ti,
                   "--additional", add, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "monitor: no violation" in r.stdout
    chk = kit.check_tls_log(str(log), kit.load_layout("single"))
    assert chk["unsafe"] == 0, chk["examples"]
    m = kit.parse_tripinfo(str(ti))
    assert m["arrived"] > 300


def test_plan_change_is_smooth_and_logged(tmp_path, generated):
    """Two coordinated plans by time of day: pattern, cycle and offset changes are logged
    (131-133) and the cycle moves to the new one by at most a fifth per cycle."""
    n = generated["tee"]
    base = tmp_path / "tee.toml"
    assert smartcross("import-sumo", n.net, "--detectors", n.detectors, "-o", base,
                      "--plan", "adaptive").returncode == 0
    text = base.read_text()
    plans = ""
    for pid, cycle, offset in (("am", 60, 0), ("pm", 80, 30)):
        plans += (f'  [[intersection.plan]]\n  id = "{pid}"\n  mode = "coordinated"\n'
                  f"  cycle_s = {cycle}\n  offset_s = {offset}\n  main_stage = \"S1\"\n"
                  "  [intersection.plan.stages]\n  S1 = { max_green_s = 90 }\n"
                  "  S2 = { max_green_s = 8 }\n  S3 = { max_green_s = 15 }\n\n")
    text = text.replace("  [intersection.sumo]", plans + "  [intersection.sumo]")
    text = text.replace('[[schedule]]\nat = "00:00"\nplan = "adaptive"',
                        '[[schedule]]\nat = "00:00"\nplan = "am"\n\n'
                        '[[schedule]]\nat = "07:05"\nplan = "pm"')
    cfg = tmp_path / "two.toml"
    cfg.write_text(text)
    assert smartcross("check", cfg).returncode == 0
    ev = tmp_path / "ev.csv"
    r, _ = _run(tmp_path, n.sumocfg, "--config", cfg, "--start", "07:00", "--end", "1200",
                "--events", ev)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = list(csv.DictReader(open(ev)))
    codes = {int(x["EventCode"]) for x in rows}
    assert {131, 132, 133} <= codes
    main = cfg.read_text().split('id = "EB_TR"')[0].count("[[intersection.group]]")
    starts = [x["Timestamp"][-10:] for x in rows
              if x["EventCode"] == "1" and x["EventParam"] == str(main)]
    secs = [int(s[:2]) * 3600 + int(s[3:5]) * 60 + float(s[6:]) for s in starts]
    gaps = [b - a for a, b in zip(secs, secs[1:]) if a > 7 * 3600 + 120]
    assert gaps and min(gaps) >= 60 * 0.8 - 1 and max(gaps) <= 80 * 1.2 + 1, gaps
    assert json.loads(r.stdout)["violations"] == []


def test_atspm_and_diagram(tmp_path, generated):
    n = generated["uneven"]
    png = tmp_path / "pcd.png"
    r, _ = _run(tmp_path, n.sumocfg, "--end", "400", "--atspm", "--plot", png)
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)["atspm"]
    assert set(m) == set(n.signals)
    some = next(iter(m["J1"].values()))
    assert {"cycles", "mean_green_s", "gap_out", "max_out"} <= set(some)
    assert png.exists() and png.stat().st_size > 10_000


@pytest.mark.parametrize("args, message", [
    (["--sumocfg", "/nonexistent.sumocfg", "--tripinfo", "t.xml"], "cannot read the SUMO"),
])
def test_errors_are_messages(tmp_path, args, message):
    r = smartcross("sumo", *args, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_config_without_sumo_table(tmp_path, generated):
    from sumo_helpers import ROOT

    r = smartcross("sumo", "--sumocfg", generated["tee"].sumocfg, "--tripinfo",
                   tmp_path / "t.xml", "--config", ROOT / "examples" / "astana_cis.toml")
    assert r.returncode == 2 and "no [intersection.sumo] table" in r.stderr


def test_nets_module_is_importable():
    assert sumo_nets.t_junction
