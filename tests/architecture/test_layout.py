"""The house rules that a reader can check without running anything: no product source file
over 450 lines, no function over 80 lines (except where a table reads better, named below
with the reason), and the shipped program never importing the rig. The import contracts
themselves are import-linter's (`lint-imports`, run by `make test`; pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("controller", "city", "hil", "firmware", "protocols", "monitor")
MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 80

# qualified name -> why it stays long (a table-driven rewrite would read worse).
LONG_FUNCTIONS: dict[str, str] = {}


def sources() -> list[Path]:
    return sorted(p for d in PRODUCT if (ROOT / d).is_dir() for p in (ROOT / d).rglob("*.py")
                  if ".venv" not in p.parts)


def functions(tree: ast.AST, prefix: str = ""):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{prefix}{node.name}"
            yield name, node.end_lineno - node.lineno + 1
            yield from functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, f"{prefix}{node.name}.")


def test_no_product_file_is_longer_than_the_limit():
    long = [f"{p.relative_to(ROOT)}: {n} lines"
            for p in sources() if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES]
    assert long == [], f"over {MAX_FILE_LINES} lines: split by concern"


def test_no_function_is_longer_than_the_limit_unless_named_with_a_reason():
    long = []
    for p in sources():
        mod = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for name, n in functions(ast.parse(p.read_text())):
            if n > MAX_FUNCTION_LINES and f"{mod}.{name}" not in LONG_FUNCTIONS:
                long.append(f"{mod}.{name}: {n} lines")
    assert long == []


@pytest.mark.parametrize("package", ["controller", "protocols", "firmware", "monitor"])
def test_the_product_never_names_the_rig(package):
    """Belt and braces beside lint-imports: also dynamic imports by string."""
    hits = []
    for p in sources():
        if p.relative_to(ROOT).parts[0] != package:
            continue
        for node in ast.walk(ast.parse(p.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value.startswith("hil.") and " " not in node.value:
                    names = [node.value]
            hits += [f"{p.relative_to(ROOT)}:{node.lineno} {n}" for n in names
                     if n == "hil" or n.startswith("hil.")]
    assert hits == []
