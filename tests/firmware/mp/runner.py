# Runs the test_* functions of one MicroPython test module on the unix port:
#   micropython runner.py MODULE
# prints "PASS name" or "FAIL name", the traceback and "END name" for each.
import sys


def run(modname):
    mod = __import__(modname)
    names = sorted(n for n in dir(mod) if n.startswith("test_"))
    for n in names:
        setup = getattr(mod, "setup", None)
        try:
            if setup is not None:
                setup()
            getattr(mod, n)()
            print("PASS", n)
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            print("FAIL", n)
            sys.print_exception(e)
            print("END", n)


run(sys.argv[1])
