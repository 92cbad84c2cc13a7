"""Run every test_* function of one test module; works under MicroPython and CPython.

    MICROPYPATH=<repo>:<repo>/tests/protocols micropython tests/protocols/mp_runner.py MODULE

Prints one line per test and exits 1 if any failed.
"""

import sys


def run(name):
    mod = __import__(name)
    failed = 0
    passed = 0
    for attr in sorted(dir(mod)):
        if not attr.startswith("test_"):
            continue
        fn = getattr(mod, attr)
        if not callable(fn):
            continue
        try:
            fn()
        except Exception as e:  # report every failure, keep going
            failed += 1
            print("FAIL", name + "." + attr)
            if hasattr(sys, "print_exception"):
                sys.print_exception(e)
            else:
                import traceback
                traceback.print_exc()
        else:
            passed += 1
            print("ok  ", name + "." + attr)
    print(name + ":", passed, "passed,", failed, "failed")
    return failed


if __name__ == "__main__":
    bad = 0
    for arg in sys.argv[1:]:
        bad += run(arg)
    sys.exit(1 if bad else 0)
