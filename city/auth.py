"""Who may command: the operators file, hashed passwords, and login sessions (no I/O but
reading the file).

The file (`smartcross city --operators FILE`; lines added by `smartcross city-operator
FILE NAME`) has one line per person, `name:role:hash`, `#` comments allowed:

    alice:operator:scrypt$16384$8$1$<salt hex>$<key hex>
    bob:viewer:scrypt$...

Roles: `operator` may send commands; `viewer` may log in and read (what anyone may do
without a login anyway). Passwords are kept as scrypt keys (Python's hashlib, OpenSSL's
scrypt; a random 16-byte salt each), compared in constant time. A login returns a random
bearer token (`Authorization: Bearer <token>`), valid SESSION_S, kept in memory only: a
restart of the service logs everybody out.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

ROLES = ("operator", "viewer")
N, R, P = 2**14, 8, 1
SESSION_S = 8 * 3600.0
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


@dataclass(frozen=True)
class Operator:
    name: str
    role: str
    key: str


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${salt.hex()}${key.hex()}"


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(key) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), key)


_DUMMY = hash_password("no such operator")    # an unknown name costs what a known one does


def read_operators(path: str | Path) -> dict[str, Operator]:
    """The operators file; ValueError('FILE:LINE: what is wrong') for a bad line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read it ({getattr(e, 'strerror', None) or e})") \
            from None
    ops: dict[str, Operator] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) != 3 or not _NAME.match(parts[0]) or parts[1] not in ROLES \
                or not parts[2].startswith("scrypt$"):
            raise ValueError(f"{path}:{n}: expected name:role:scrypt$... with a role of "
                             f"{', '.join(ROLES)} (smartcross city-operator adds a line)")
        ops[parts[0]] = Operator(*parts)
    return ops


def add_operator(path: str | Path, name: str, role: str, password: str) -> None:
    """Add (or replace) `name` in the file, which is created if missing."""
    if not _NAME.match(name):
        raise ValueError(f"{name!r}: a name is 1-64 letters, digits, '_', '.', '@', '-'")
    if role not in ROLES:
        raise ValueError(f"role {role!r}: one of {', '.join(ROLES)}")
    if not password:
        raise ValueError("an empty password")
    p = Path(path)
    old = read_operators(p) if p.exists() else {}
    old[name] = Operator(name, role, hash_password(password))
    p.write_text("".join(f"{o.name}:{o.role}:{o.key}\n" for o in old.values()),
                 encoding="utf-8")
    p.chmod(0o600)


class Sessions:
    def __init__(self, operators: dict[str, Operator], clock=time.monotonic):
        self.operators = operators
        self.clock = clock
        self.tokens: dict[str, tuple[Operator, float]] = {}

    def login(self, name: str, password: str) -> str | None:
        op = self.operators.get(name)
        ok = check_password(op.key if op else _DUMMY, password)
        if not (op and ok):
            return None
        token = secrets.token_urlsafe(32)
        self.tokens[token] = (op, self.clock() + SESSION_S)
        return token

    def who(self, token: str | None) -> Operator | None:
        got = self.tokens.get(token or "")
        if got is None:
            return None
        if self.clock() > got[1]:
            del self.tokens[token or ""]
            return None
        return got[0]

    def logout(self, token: str | None) -> None:
        self.tokens.pop(token or "", None)
