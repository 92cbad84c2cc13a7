"""What the cabinet install lacks: matplotlib (the `plot` extra) and the HIL rig (hil/).

Each case runs in a subprocess whose import system refuses a package
(`sys.modules[name] = None`), as on a machine where it is not installed.
"""

import subprocess
import sys

from sc_paths import ROOT

CORRIDOR = str(ROOT / "examples" / "corridor.toml")


def without(blocked: list[str], code: str) -> subprocess.CompletedProcess:
    prelude = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in blocked)
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def smartcross(blocked: list[str], *args: str) -> subprocess.CompletedProcess:
    return without(blocked, f"from controller.cli import main\nsys.exit(main({list(args)!r}))")


def test_plot_without_matplotlib_is_one_message_and_status_2(tmp_path):
    png = tmp_path / "d.png"
    for args in (["simulate", CORRIDOR, "--duration", "60", "--plot", str(png)],
                 ["sumo", "--sumocfg", str(tmp_path / "x.sumocfg"), "--tripinfo",
                  str(tmp_path / "t.xml"), "--plot", str(png)]):
        r = smartcross(["matplotlib"], *args)
        assert r.returncode == 2, r.stderr
        assert r.stderr == ("error: --plot needs matplotlib, which is not installed here: "
                            "pip install 'smartcross[plot]'\n")
        assert not png.exists()


def test_simulate_without_a_plot_needs_no_matplotlib():
    r = smartcross(["matplotlib"], "simulate", CORRIDOR, "--duration", "60", "--json")
    assert r.returncode == 0, r.stderr
    assert '"violations": []' in r.stdout


def test_the_cabinet_service_never_imports_matplotlib():
    # everything `smartcross run` imports: the program, its parser (plugins included),
    # the service; then a run that stops at its input check
    r = without([], "from controller.cli import build_parser, main\n"
                "import controller.runtime.service, controller.cli.service\n"
                "build_parser()\n"
                f"code = main(['run', {CORRIDOR!r}, '--offline-cycles', '0'])\n"
                "print(code, sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0] == "2 []"
    assert "argument --offline-cycles: must be a whole number from 1 to 600" in r.stderr


def test_without_the_rig_there_is_no_hil_or_demo_command():
    r = smartcross(["hil"], "--help")
    assert r.returncode == 0, r.stderr
    commands = r.stdout.split("COMMAND", 2)[2]
    assert " hil " not in commands and " demo " not in commands and " check " in commands
    r = smartcross(["hil"], "check", CORRIDOR)
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr
    r = smartcross(["hil"], "demo")
    assert r.returncode == 2 and "invalid choice: 'demo'" in r.stderr


# the independent monitor, on its way out of hil/ into a package of its own
MONITOR_USERS = {"controller/simulate.py", "controller/sumo/sil.py"}


def test_the_controller_imports_no_hil_module():
    # hil reaches the program only through the smartcross.commands entry point
    hits = [f"{p.relative_to(ROOT)}:{n}" for p in (ROOT / "controller").rglob("*.py")
            for n, line in enumerate(p.read_text().splitlines(), 1)
            if line.lstrip().startswith(("import hil", "from hil"))
            and not (str(p.relative_to(ROOT)) in MONITOR_USERS and "hil.monitor" in line)]
    assert hits == []
