"""Parking guidance for drivers: what a variable message sign shows for a parking area.

Pure: from an area's counts (a bay whose sensor or node is in fault is never counted free;
the cabinet already reports it as `faulty`), whether the city closed the area, and
whether its cabinet is online. A sign that cannot know the count shows dashes rather than
an old number.
"""

from __future__ import annotations

OPEN, FULL, CLOSED, UNKNOWN = "open", "full", "closed", "unknown"


def area_guidance(area: dict, closed: bool, online: bool) -> dict:
    """{"state", "sign"}: the state (open, full, closed, unknown) and the sign's text."""
    if closed:
        return {"state": CLOSED, "sign": "CLOSED"}
    free = area.get("free")
    if not online or free is None:
        return {"state": UNKNOWN, "sign": "--"}
    if free <= 0:
        return {"state": FULL, "sign": "FULL"}
    return {"state": OPEN, "sign": f"{free} FREE"}


def sign_message(sign_id: str, areas: list[dict], ts: float) -> dict:
    """The message for `smartcross/signs/<sign-id>`: one line per area it points to."""
    return {"sign": sign_id, "ts": ts,
            "lines": [{"area": a["id"], "name": a["name"], "text": a["sign"],
                       "state": a["state"], "free": a["free"] if a["state"] == OPEN else 0}
                      for a in areas]}
