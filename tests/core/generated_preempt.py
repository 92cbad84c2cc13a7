"""Random but valid preemption and transit priority sections on generated intersections
(generated.py): the loader must accept them and the timing core stay safe under them."""

from hypothesis import strategies as st

from controller.config import loads

from generated import group_toml


def _toml_list(names) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


@st.composite
def preempt_toml(draw) -> str:
    text = draw(group_toml())
    inter = loads(text).intersections[0]
    group = {g.id: g for g in inter.groups}
    stages = [s.groups for s in inter.stages]
    stage_ids = [s.id for s in inter.stages]
    inp = len(inter.detectors)
    lines: list[str] = []
    rail_done = False
    for i in range(draw(st.integers(1, 3))):
        route = list(draw(st.sampled_from(stages)))
        track: list[str] = []
        rail = not rail_done and len(stages) > 1 and draw(st.booleans())
        if rail:
            track = [g for g in draw(st.sampled_from(stages)) if g not in route]
            route = [g for g in route if g not in track]
            rail = bool(track and route)
        if rail:
            rail_done = True
        else:
            track = []
        keep = draw(st.integers(1, len(route)))
        route = route[:keep]
        dwell = max(max(group[g].min_green_s, group[g].flash_green_s + group[g].change_s)
                    for g in route) + draw(st.integers(0, 5))
        delay = float(draw(st.integers(0, 3)))
        pid = f"E{i + 1}"
        lines += ["[[intersection.preempt]]", f'id = "{pid}"',
                  f'kind = "{"rail" if rail else "emergency"}"',
                  f"priority = {1 if rail else 2 + draw(st.integers(0, 2))}",
                  f"route = {_toml_list(route)}", f"delay_s = {delay}",
                  f"min_dwell_s = {dwell}",
                  f"max_presence_s = {delay + dwell + draw(st.integers(10, 120))}"]
        for key in ("min_green_s", "min_walk_s"):
            if draw(st.booleans()):
                lines.append(f"{key} = {float(draw(st.integers(2, 8)))}")
        if draw(st.booleans()):
            lines.append(f'exit_stage = "{draw(st.sampled_from(stage_ids))}"')
        if draw(st.booleans()):
            lines.append(f'detector = "{pid}-det"')
        if rail:
            green = max(5.0, max(group[g].min_green_s for g in track)) + draw(st.integers(0, 10))
            lines += ["warning_time_s = 600",
                      f"track_clearance = {{ groups = {_toml_list(track)}, green_s = {green} }}"]
    for i in range(draw(st.integers(0, 2))):
        early = float(draw(st.integers(0, 15)))
        extend = float(draw(st.integers(1 if early == 0 else 0, 15)))
        lines += ["[[intersection.priority]]", f'id = "T{i + 1}"', f'checkin = "T{i + 1}-in"',
                  f'stage = "{draw(st.sampled_from(stage_ids))}"',
                  f"max_early_s = {early}", f"max_extend_s = {extend}",
                  f"per_cycle = {draw(st.integers(1, 2))}",
                  f"max_presence_s = {float(draw(st.integers(20, 120)))}"]
        if draw(st.booleans()):
            lines.append(f'checkout = "T{i + 1}-out"')
    dets = [ln.split('"')[1] for ln in lines if ln.startswith(("detector =", "checkin =",
                                                                 "checkout ="))]
    for d in dets:
        kind = "preempt" if d.startswith("E") else "priority"
        lines += ["[[intersection.detector]]", f'id = "{d}"', f'kind = "{kind}"',
                  'node = "d"', f"input = {inp}"]
        inp += 1
    return text + "\n".join(lines) + "\n"


JUNCTION_PREEMPTS = """
  [[intersection.preempt]]
  id = "ev-side"
  kind = "emergency"
  priority = 3
  route = ["NB_TR", "SB_TR"]
  min_dwell_s = 8
  min_green_s = {floor}
  max_presence_s = 60
  [[intersection.preempt]]
  id = "ev-main"
  kind = "emergency"
  priority = 2
  route = ["EB_TR", "WB_TR", "EB_L"]
  min_dwell_s = 8
  max_presence_s = 60
  exit_stage = "{exit}"
  [[intersection.preempt]]
  id = "rail"
  kind = "rail"
  priority = 1
  route = ["EB_TR", "WB_TR"]
  track_clearance = {{ groups = ["NB_TR"], green_s = 10 }}
  min_dwell_s = 8
  min_green_s = 3
  max_presence_s = 90
  warning_time_s = 60
  [[intersection.priority]]
  id = "bus"
  checkin = "bus-in"
  checkout = "bus-out"
  stage = "{tsp}"
  max_early_s = {early}
  max_extend_s = {extend}
  per_cycle = {per_cycle}
  [[intersection.detector]]
  id = "bus-in"
  kind = "priority"
  node = "d"
  [[intersection.detector]]
  id = "bus-out"
  kind = "priority"
  node = "d"
"""


@st.composite
def junction_preempt_toml(draw) -> str:
    """The control tests' junction (permissive lefts; adaptive, actuated, coordinated and
    fixed plans) with emergency and rail preemption and a bus priority."""
    from control.control_junction import junction_toml

    plan = draw(st.sampled_from(["adaptive", "actuated", "coordinated", "fixed"]))
    text = junction_toml(plan, lead=draw(st.booleans()))
    return text + JUNCTION_PREEMPTS.format(
        floor=draw(st.sampled_from([2, 4, 6])), exit=draw(st.sampled_from(["L", "M", "S"])),
        tsp=draw(st.sampled_from(["L", "M", "S"])), early=draw(st.integers(0, 15)),
        extend=draw(st.integers(1, 15)), per_cycle=draw(st.integers(1, 2)))
