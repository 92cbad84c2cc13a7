"""The node's modules, tested on the MicroPython unix port (the tests are in mp/)."""

import pytest
from fw_mpunit import MP, check, names_of

pytestmark = pytest.mark.micropython

MODULES = sorted(p.stem for p in MP.glob("mp_*.py"))
CASES = [(m, n) for m in MODULES for n in names_of(m)]


@pytest.mark.parametrize(("module", "name"), CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_on_micropython(module: str, name: str) -> None:
    check(module, name)
