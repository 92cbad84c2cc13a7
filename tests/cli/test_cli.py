"""The `smartcross` program as a user meets it: exit codes, messages, outputs."""

import csv
import json
import subprocess
import sys

import pytest

from controller.cli import main

from sc_paths import ROOT

ASTANA = str(ROOT / "examples" / "astana_cis.toml")


def run(*args):
    """The installed program in a subprocess: what a user sees, tracebacks included."""
    return subprocess.run([sys.executable, "-m", "controller.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_help_on_every_subcommand():
    for sub in ([], ["check"], ["simulate"], ["demo"]):
        r = run(*sub, "--help")
        assert r.returncode == 0 and "usage: smartcross" in r.stdout


def test_check_ok(capsys):
    assert main(["check", ASTANA]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "plan peak: fixed, cycle 120 s" in out


def test_check_bad_file_names_file_key_and_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    text = open(ASTANA).read().replace('groups = ["V3", "P1"]', 'groups = ["V3", "V1"]')
    bad.write_text(text.replace("startup_flash_s = 6", "startup_flash_s = 6\nfavourite = 1"))
    r = run("check", str(bad))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert f"{bad}: intersection[kb-turan].favourite: unknown key" in r.stderr
    assert "stage[S3].groups: V3 and V1 conflict" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["check", "/nonexistent.toml"], "cannot read the file"),
    (["simulate", ASTANA, "--start", "25:99"], "--start: expected HH:MM"),
    (["simulate", ASTANA, "--duration", "-5"], "argument --duration: must be a number above 0"),
    (["simulate", ASTANA, "--duration", "10", "--events", "/nonexistent/dir/e.csv"],
     "--events: cannot write"),
])
def test_bad_input_is_a_message_not_a_traceback(args, message):
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr


def test_simulate_json_and_events_csv(tmp_path, capsys):
    events = tmp_path / "events.csv"
    code = main(["simulate", ASTANA, "--duration", "900", "--seed", "3", "--json",
                 "--start", "2026-03-02T07:00", "--events", str(events)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["violations"] == [] and doc["duration_s"] == 900
    assert doc["events"] > 100 and doc["detector_actuations"] > 50
    assert set(doc["green_s"]["kb-turan"]) == {"V1", "V2", "V3", "V4", "P1", "P2"}
    rows = list(csv.reader(open(events)))
    assert rows[0] == ["SignalID", "Timestamp", "EventCode", "EventParam"]
    assert len(rows) - 1 == doc["events"]
    assert rows[1] == ["kb-turan", "2026-03-02 07:00:00.0", "173", "7"]   # start-up flash


def test_simulate_plot_draws_a_timing_diagram(tmp_path, capsys):
    png = tmp_path / "diagram.png"
    assert main(["simulate", ASTANA, "--duration", "200", "--plot", str(png)]) == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_same_seed_same_run(capsys):
    main(["simulate", ASTANA, "--duration", "600", "--seed", "9", "--json"])
    a = capsys.readouterr().out
    main(["simulate", ASTANA, "--duration", "600", "--seed", "9", "--json"])
    assert capsys.readouterr().out == a


def test_check_and_provision_say_which_lamps_have_no_sense(tmp_path, capsys):
    corridor = str(ROOT / "examples" / "corridor.toml")
    assert main(["check", corridor]) == 0
    out = capsys.readouterr().out
    assert "node a1-n1: board esp32s3, 10 lamp outputs, 6 detector inputs, lamp sense on 6 " \
        "of 10 lamps" in out
    assert "warning: node a1-n1: board esp32s3 has inputs for lamp sense on 6 of 10 lamps; " \
        "not sensed: P1 green, P2 green, V1 amber, V2 amber" in out
    out_file = tmp_path / "a1-n1.json"
    assert main(["nodes", "provision", corridor, "a1-n1", "-o", str(out_file)]) == 0
    err = capsys.readouterr().err
    assert "warning: node a1-n1: board esp32s3 has inputs for lamp sense on 6 of 10 lamps" in err
    assert json.loads(out_file.read_text())["board"] == "esp32s3"


def test_provision_refuses_an_unusable_pin_and_writes_nothing(tmp_path):
    text = (ROOT / "examples" / "us_junction.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("pins = { red = 4, amber = 5, green = 6 }",
                                "pins = { red = 43, amber = 5, green = 6 }"), encoding="utf-8")
    out_file = tmp_path / "cab-1.json"
    r = run("nodes", "provision", str(bad), "cab-1", "-o", str(out_file))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "intersection[main-5th].group[ph1].pins.red: GPIO 43 is UART0" in r.stderr
    assert not out_file.exists()
    r = run("check", str(bad))
    assert r.returncode == 2 and "group[ph1].pins.red: GPIO 43 is UART0" in r.stderr
