"""The monitor's provisioning: one intersection as a plain-data table.

Everything the monitor knows about an intersection is in this table, so that it shares
nothing with the timing core (it never reads the controller's configuration model) and
a monitor board can be provisioned with the same document as a JSON file. Format 1:

    {"format": 1,
     "intersection": "kb-turan",      # its id, copied into every Violation
     "flash": "amber",                # what vehicle heads flash in flash mode: amber | red
     "groups": [                      # every signal group of the intersection
         {"id": "V1",
          "kind": "vehicle",          # vehicle | arrow | pedestrian
          "min_green_ms": 12000,      # minimum green (pedestrians: minimum walk)
          "amber_ms": 3000,           # change amber (0 for pedestrians)
          "red_amber": true,          # the sequence shows red+amber before green
          "flash_dont_walk": false},  # pedestrians clear with flashing red (US FDW)
         ...],
     "conflicts": [                   # every conflicting ordered pair, both orders
         ["V1", "V3", 5000],          # clearing, entering, intergreen (ms)
         ...]}

Only plain values (str, int, bool, lists, dicts): json.dumps/json.loads give the same
table back, under CPython and MicroPython alike. Times are whole milliseconds. Other keys
are ignored. The controller builds it from its configuration in
controller/config/monitor_table.py, in configuration order (deterministic).

A monitor unit (firmware/munit/) publishes `crc(table)` of the table it was provisioned
with, and the cabinet compares it with `crc` of the table it makes from its configuration
(the canonical encoding and its CRC-32: protocols/monitor_tables.py, re-exported here).
"""

from protocols.monitor_tables import crc, encode  # noqa: F401  (re-exported)

FORMAT = 1
KINDS = ("vehicle", "arrow", "pedestrian")
FLASH = ("amber", "red")
GROUP_MS = ("min_green_ms", "amber_ms")
GROUP_FLAGS = ("red_amber", "flash_dont_walk")


def _is_ms(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _check_group(k: int, g) -> str | None:
    if not isinstance(g, dict):
        return f"group {k} is not a dict"
    gid = g.get("id")
    if not isinstance(gid, str) or not gid:
        return f"group {k}: id must be a non-empty string"
    if g.get("kind") not in KINDS:
        return f"group {gid}: kind must be one of " + ", ".join(KINDS)
    for key in GROUP_MS:
        if not _is_ms(g.get(key)):
            return f"group {gid}: {key} must be an integer >= 0"
    for key in GROUP_FLAGS:
        if not isinstance(g.get(key), bool):
            return f"group {gid}: {key} must be true or false"
    return None


def _check_conflicts(conflicts, ids: list) -> str | None:
    if not isinstance(conflicts, list):
        return "conflicts must be a list"
    pairs = set()
    for c in conflicts:
        if not isinstance(c, (list, tuple)) or len(c) != 3:
            return f"conflict {c} is not [clearing, entering, intergreen_ms]"
        if c[0] not in ids or c[1] not in ids or c[0] == c[1]:
            return f"conflict {c}: unknown groups or a group with itself"
        if not _is_ms(c[2]):
            return f"conflict {c}: intergreen must be an integer >= 0 (ms)"
        if (c[0], c[1]) in pairs:
            return f"conflict {c[0]}->{c[1]} given twice"
        pairs.add((c[0], c[1]))
    for a, b in pairs:
        if (b, a) not in pairs:
            return f"conflict {a}->{b} is listed without {b}->{a}"
    return None


def validate(table) -> str | None:
    """None if `table` is a monitor table of format 1, else the first problem found."""
    if not isinstance(table, dict):
        return "a monitor table must be a dict"
    if table.get("format") != FORMAT:
        return f"format must be {FORMAT}"
    if not isinstance(table.get("intersection"), str):
        return "intersection must be a string"
    if table.get("flash") not in FLASH:
        return "flash must be one of " + ", ".join(FLASH)
    groups = table.get("groups")
    if not isinstance(groups, list):
        return "groups must be a list"
    ids: list = []
    for k in range(len(groups)):
        err = _check_group(k, groups[k])
        if err:
            return err
        if groups[k]["id"] in ids:
            return "duplicate group id " + groups[k]["id"]
        ids.append(groups[k]["id"])
    return _check_conflicts(table.get("conflicts"), ids)


