"""Every subcommand of `smartcross`, found in the assembled parser, fed bad values.

The commands are not listed here: they are walked from `build_parser()` (plugins
included), so a new command or a new option is covered the day it is added, and an
option this module cannot classify fails `test_every_argument_is_classified` until it is.
Each case starts from a valid command line (the required arguments only), makes one
argument bad and asserts what the user gets: exit status 2, one `error:` message that
names the option or the file, and no traceback (the program runs in this process: an
exception that escapes `main` fails the test with its traceback). Every bad value is one
the program must refuse before any work, so no case runs a simulation, a service or SUMO.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.cli import build_parser, main
from controller.cli.options import Number

from sc_paths import ROOT

CORRIDOR = str(ROOT / "examples" / "corridor.toml")
SCENARIO = str(ROOT / "hil" / "scenarios" / "normal_cis.toml")

# what an argument is, by its dest; (command, dest) where one command means another thing
KINDS = {
    "file": "config", "config": "config", "node": "node file", "net": "input",
    "detectors": "input", "routes": "input", "additional": "input", "sumocfg": "input",
    "base_image": "binary input", "bundle": "input folder", "output": "output",
    "events": "output", "tripinfo": "output", "statistics": "output", "plot": "image",
    "data": "data folder", "start": "time", "end": "time", "node_id": "node id",
    "port": "serial port", "bus": "bus", "plan": "plan", "name": "any text",
    "target": "hil target", "by": "any text", "broker": "broker url", "http": "host:port",
    "credentials": "input", "closed": "any text", "tls_ca": "input", "operators": "input",
    "preempt": "scripted call", "tsp": "scripted call",
}
OVERRIDES = {
    (("firmware", "build"), "output"): "bundle output",
    (("run",), "port"): "bus=port",
    (("run",), "data"): "record folder",     # made if missing: only a file is bad
    (("city",), "data"): "record folder",
    (("city-operator",), "file"): "operators file",      # made if missing
}


def commands(parser: argparse.ArgumentParser | None = None, words: tuple = ()) -> list:
    """(command words, parser) of every leaf subcommand."""
    parser = parser or build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [(words, parser)]
    return [leaf for name, p in subs[0].choices.items() for leaf in commands(p, words + (name,))]


def arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)
            and a.nargs != 0]


def kind(words: tuple, action: argparse.Action) -> str | None:
    if isinstance(action.type, Number):
        return "number"
    if action.choices:
        return "choice"
    return OVERRIDES.get((words, action.dest), KINDS.get(action.dest))


def name(action: argparse.Action) -> str:
    return action.option_strings[-1] if action.option_strings else action.dest


LEAVES = commands()


def test_the_walk_finds_every_command():
    found = {" ".join(w) for w, _ in LEAVES}
    assert {"check", "simulate", "run", "status", "log export", "firmware build",
            "nodes provision", "nodes scan", "flash", "import-sumo", "sumo", "hil",
            "demo"} <= found


def test_every_argument_is_classified():
    unknown = [f"{name(a)} of `smartcross {' '.join(w)}`" for w, p in LEAVES
               for a in arguments(p) if kind(w, a) is None]
    assert unknown == [], "classify these in KINDS (and give them bad values): " \
        + ", ".join(unknown)


def test_every_number_is_a_checked_number():
    # a bare float or int lets nan, inf and 1e12 through: each numeric option is a Number
    bare = [f"{name(a)} of `smartcross {' '.join(w)}`" for w, p in LEAVES for a in arguments(p)
            if a.type in (float, int)]
    assert bare == []


# -- the program in this process ------------------------------------------------------------
def call(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_refused(argv: list[str], names: list[str]) -> None:
    code, out, err = call(argv)
    shown = f"smartcross {' '.join(argv)}\nstdout: {out}\nstderr: {err}"
    assert "Traceback" not in out + err, shown
    assert code == 2, shown
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors, shown
    if len(errors) > 1:       # a configuration's problems: each names the file, then a count
        assert err.rstrip().endswith("problem(s); nothing was changed."), shown
        assert len(errors) <= 51, shown
    assert all(any(n in e for n in names) for e in errors), shown


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("bad")
    (d / "folder").mkdir()
    (d / "empty-folder").mkdir()
    (d / "latin1.toml").write_bytes(b"name = \"Stra\xdfe\"\n\xff\xfe\x00")
    (d / "not-a-config.toml").write_text("favourite = 1\n")
    (d / "not-a-node.json").write_text('{"node_id": "x"}\n')
    (d / "plain.txt").write_text("not a bundle\n")
    node = d / "a1-n1.json"
    assert call(["nodes", "provision", CORRIDOR, "a1-n1", "-o", str(node)])[0] == 0
    return {"dir": str(d / "folder"), "empty": str(d / "empty-folder"),
            "latin1": str(d / "latin1.toml"), "not_config": str(d / "not-a-config.toml"),
            "not_node": str(d / "not-a-node.json"), "file": str(d / "plain.txt"),
            "missing": str(d / "missing.toml"), "nowhere": str(d / "no" / "such" / "x.png"),
            "node": str(node), "tmp": str(d)}


@pytest.fixture(scope="module")
def sumo_net(tmp_path_factory):
    """A small SUMO network (netconvert): the valid input of `import-sumo` and `sumo`."""
    pytest.importorskip("sumo")
    sys.path.insert(0, str(ROOT / "tests" / "sumo"))
    import sumo_nets

    return sumo_nets.t_junction(tmp_path_factory.mktemp("net"))


def baseline(words: tuple, parser, files, request) -> list[str]:
    """A valid command line: the command and its required arguments."""
    needs_sumo = words in (("import-sumo",), ("sumo",))
    net = request.getfixturevalue("sumo_net") if needs_sumo else None
    valid = {"file": CORRIDOR, "node_id": "a1-n1", "start": "2026-01-01T00:00",
             "end": "2026-01-02T00:00", "port": "/dev/null", "node": files["node"],
             "sumocfg": net and net.sumocfg, "net": net and net.net,
             "tripinfo": f"{files['tmp']}/trip.xml", "output": f"{files['tmp']}/out.toml",
             "target": SCENARIO, "broker": "mqtt://127.0.0.1:1", "name": "alice"}
    argv = list(words)
    for a in arguments(parser):
        if a.required:
            assert valid.get(a.dest), f"give {name(a)} of {' '.join(words)} a valid value"
            argv += ([a.option_strings[0]] if a.option_strings else []) + [valid[a.dest]]
    if words == ("sumo",):
        argv += ["--end", "1"]
    return argv


def bad_values(k: str, files: dict[str, str]) -> list[str]:
    f = files
    return {
        "number": ["nan", "inf", "-inf", "-1", "1e12", "ten"],
        "choice": ["bogus"],
        "config": [f["missing"], f["dir"], f["latin1"], f["not_config"]],
        "input": [f["missing"], f["dir"], f["latin1"]],
        "operators file": [f["dir"], f["latin1"], f["not_config"]],
        "binary input": [f["missing"], f["dir"]],
        "node file": [f["missing"], f["dir"], f["latin1"], f["not_node"]],
        "input folder": [f["missing"], f["file"]],
        "output": [f["nowhere"], f["dir"]],
        "bundle output": [f["file"]],
        "image": [f["nowhere"], f["dir"], f"{f['tmp']}/diagram.txt"],
        "data folder": [f["file"], f["empty"]],
        "record folder": [f["file"]],
        "time": ["25:99", "yesterday"],
        "node id": ["nope"],
        "serial port": ["/nonexistent/tty", f["dir"]],
        "bus=port": ["garbage", "nobus=/dev/null"],
        "bus": ["nobus"],
        "scripted call": ["nope@10", "nope", "x@ten"],
        "plan": ["nope"],
        "broker url": ["ftp://example.org", "mqtt://", "mqtt://host:99999"],
        "host:port": ["nocolon", "127.0.0.1:99999"],
        "any text": [],
        "hil target": [],                       # test_hil_targets
    }[k]


def cases() -> list:
    out = []
    for words, parser in LEAVES:
        for a in arguments(parser):
            k = kind(words, a)
            if k not in (None, "any text", "hil target"):
                out.append(pytest.param(words, a.dest, k,
                                        id=f"{' '.join(words)} {name(a)} ({k})"))
    return out


@pytest.mark.parametrize("words, dest, k", cases())
def test_each_argument_of_each_command_refuses_bad_values(words, dest, k, files, request):
    parser = dict(LEAVES)[words]
    action = next(a for a in arguments(parser) if a.dest == dest)
    base = baseline(words, parser, files, request)
    for value in bad_values(k, files):
        argv = list(base)
        if action.option_strings:
            opt = action.option_strings[-1]
            if opt in argv:                     # a required option: replace its value
                i = argv.index(opt)
                del argv[i:i + 2]
            argv.append(f"{opt}={value}")
        else:                                   # a positional: in its place
            pos = [a.dest for a in arguments(parser) if not a.option_strings]
            argv[len(words) + pos.index(dest)] = value
        assert_refused(argv, [value] + action.option_strings)


@pytest.mark.parametrize("target", [
    ["{missing}"], ["{dir}"], ["{latin1}"], ["{not_config}"],
    ["board", "{missing}"], ["board", "{dir}"], ["board", "{latin1}"],
    ["board", "{not_node}"], ["board"], ["board", "{node}", "{node}"],
    ["repl-board", "{file}"], ["repl-board", "{file}/fs"], [SCENARIO, SCENARIO],
])
def test_hil_targets(target, files):
    argv = ["hil"] + [t.format(**files) for t in target]
    shown = [a for a in argv[1:] if a not in ("board", "repl-board")] or ["usage"]
    assert_refused(argv, shown + ["usage"])


# -- numbers, property-based ------------------------------------------------------------------
NUMBERS = [(words, a) for words, p in LEAVES for a in arguments(p) if kind(words, a) == "number"]
NOT_A_NUMBER = st.text(st.characters(whitelist_categories=("L",)), min_size=1, max_size=6)
BAD_NUMBERS = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "+inf", "-inf", "Infinity", "1e400", "-0.5", ""]),
    st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False).map(repr),
    st.floats(min_value=1e10, allow_nan=False, allow_infinity=False).map(repr),
    st.integers(min_value=10**10).map(str),
    NOT_A_NUMBER,
)


@given(st.sampled_from(NUMBERS), BAD_NUMBERS)
def test_no_number_option_takes_a_bad_number(option, value):
    # negative, non-finite, huge or not a number at all: refused by the parser, whatever
    # the other arguments (so none are given; argparse checks types before required ones)
    words, action = option
    opt = action.option_strings[-1]
    code, out, err = call([*words, f"{opt}={value}"])
    assert "Traceback" not in out + err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith(f"error: smartcross {' '.join(words)}: "
                                                   f"argument {opt}: "), err


def test_a_refused_option_is_one_line():
    code, out, err = call(["simulate", CORRIDOR, "--duration", "nan"])
    assert code == 2 and out == ""
    assert err == ("error: smartcross simulate: argument --duration: must be a number above 0 "
                   "and at most 2678400 s (31 days), got 'nan' (see `smartcross simulate "
                   "--help`)\n")


def test_help_still_exits_0(capsys):
    assert main(["simulate", "--help"]) == 0
    assert "usage: smartcross simulate" in capsys.readouterr().out
    assert Path(CORRIDOR).exists()
