"""[[intersection.stage]]: which signal groups are green together; every group in a stage."""

from __future__ import annotations

from .common import Declared, unique
from .model import Stage
from .reader import Table


def read_stages(t: Table, gmap: Declared, conflicts: set[tuple[str, str]]) -> list[Stage]:
    stages = []
    for st, sid in unique(t.get_tables("stage", required=True), "stage"):
        members = st.get_str_list("groups") or ()
        st.finish()
        for g in members:
            if g not in gmap:
                if g not in gmap.declared:
                    st.error("groups", f"names signal group {g!r}, which is not defined")
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if (a, b) in conflicts:
                    st.error("groups", f"{a} and {b} conflict and cannot be green in one stage")
        stages.append(Stage(sid, members))
    staged = {g for s in stages for g in s.groups}
    for g in gmap:
        if g not in staged:
            t.error("stage", f"signal group {g} is in no stage, so it would never be served")
    return stages
