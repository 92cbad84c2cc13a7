"""Where the repository and its examples are, for tests in every folder.

(A module of its own: `conftest` is a name every test folder may use.)
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
