"""Sum the pytest rounds of `make test` (their JUnit XML files) into one closing line:
`total: N passed, N failed, N skipped`, and list every failed test of every round."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(paths: list[str]) -> int:
    passed = failed = skipped = 0
    failures: list[str] = []
    for p in paths:
        if not Path(p).exists():
            print(f"{p}: missing (the round did not run to its end)")
            failed += 1
            continue
        for case in ET.parse(p).getroot().iter("testcase"):
            name = f"{case.get('classname')}::{case.get('name')}"
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                failures.append(name)
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    for name in failures:
        print(f"FAILED {name}")
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
