"""Random but valid intersection-group configurations, written as TOML text.

Used by the property tests: the timing core must be safe on configurations nobody
wrote by hand, and the loader must accept everything this produces.
"""

from hypothesis import strategies as st

AMBER = {"CIS": 3.0, "EU": 3.0, "US": 4.0}


@st.composite
def group_toml(draw) -> str:
    profile = draw(st.sampled_from(["CIS", "EU", "US"]))
    n = draw(st.integers(2, 7))
    kinds = [draw(st.sampled_from(["vehicle", "vehicle", "arrow", "pedestrian"]))
             for _ in range(n)]
    kinds[0] = "vehicle"
    ids = [f"{'P' if k == 'pedestrian' else 'V'}{i + 1}" for i, k in enumerate(kinds)]
    ped = {g for g, k in zip(ids, kinds) if k == "pedestrian"}
    conflicts = set()
    for i in range(n):
        for j in range(i + 1, n):
            if ids[i] in ped and ids[j] in ped:
                continue
            if draw(st.booleans()) or (i == 0 and j == 1):
                conflicts.add((ids[i], ids[j]))
    both = conflicts | {(b, a) for a, b in conflicts}

    ped_clear = {g: float(draw(st.integers(4, 15))) for g in ped} if profile == "US" else {}
    amber = {g: (0.0 if g in ped else AMBER[profile] + draw(st.sampled_from([0.0, 0.5, 1.0])))
             for g in ids}
    change = {g: ped_clear.get(g, amber[g]) for g in ids}
    inter = {(a, b): change[a] + draw(st.integers(0, 4)) + draw(st.sampled_from([0.0, 0.5]))
             for a, b in both}

    # stages: a greedy colouring, then maybe one more stage of compatible groups
    stages: list[list[str]] = []
    for g in ids:
        for s in stages:
            if all((g, o) not in both for o in s):
                s.append(g)
                break
        else:
            stages.append([g])
    if draw(st.booleans()) and len(stages) > 1:
        extra = [g for g in draw(st.permutations(ids))][:draw(st.integers(1, n))]
        pick: list[str] = []
        for g in extra:
            if all((g, o) not in both for o in pick):
                pick.append(g)
        if pick not in stages:
            stages.append(pick)

    min_green = {g: float(draw(st.integers(4, 12))) for g in ids}
    fg = 3.0 if profile == "CIS" else 0.0
    floor = {i: max(min_green[g] + fg for g in s) for i, s in enumerate(stages)}
    lines = [f'name = "generated {profile}"',
             '[[bus]]', 'id = "b"', 'port = "/dev/null"',
             '[[schedule]]', 'at = "00:00"', 'plan = "act"',
             '[[schedule]]', f'at = "{draw(st.integers(1, 23)):02d}:00"', 'plan = "fix"',
             '[[intersection]]', 'id = "x"', f'profile = "{profile}"',
             f'startup_flash_s = {draw(st.integers(4, 11))}',
             f'startup_all_red_s = {draw(st.integers(1, 5))}',
             f'flash = "{draw(st.sampled_from(["amber", "red"]))}"',
             '[[intersection.node]]', 'id = "n"', 'bus = "b"', 'address = 1',
             'board = "esp32s3"',
             '[[intersection.node]]', 'id = "d"', 'bus = "b"', 'address = 2']
    ch = 0
    for g, k in zip(ids, kinds):
        nch = 2 if k == "pedestrian" else 3
        lines += ['[[intersection.group]]', f'id = "{g}"', f'kind = "{k}"',
                  f'min_green_s = {min_green[g]}', 'node = "n"',
                  f'channels = {list(range(ch, ch + nch))}']
        if k != "pedestrian":
            lines.append(f"amber_s = {amber[g]}")
        if g in ped_clear:
            lines.append(f"ped_clear_s = {ped_clear[g]}")
        ch += nch
    lines.append("[intersection.conflicts]")
    for a in ids:
        row = sorted(b for x, b in conflicts if x == a)
        if row:
            lines.append(f"{a} = {row}".replace("'", '"'))
    lines.append("[intersection.intergreen]")
    for a in ids:
        row = ", ".join(f"{b} = {v}" for (x, b), v in sorted(inter.items()) if x == a)
        if row:
            lines.append(f"{a} = {{ {row} }}")
    for i, s in enumerate(stages):
        lines += ['[[intersection.stage]]', f'id = "S{i + 1}"', f"groups = {s}".replace("'", '"')]
    inp = 0
    for g, k in zip(ids, kinds):
        kind = "ped_button" if k == "pedestrian" else "presence"
        lines += ['[[intersection.detector]]', f'id = "D{g}"', f'kind = "{kind}"', 'node = "d"',
                  f'input = {inp}', f'calls = ["{g}"]']
        if k != "pedestrian":
            lines += [f'extends = ["{g}"]', f'passage_s = {draw(st.sampled_from([1.5, 2.0, 3.0]))}']
        inp += 1
    # an actuated plan and a fixed plan whose cycle has room for any interstage
    lines += ['[[intersection.plan]]', 'id = "act"', 'mode = "actuated"']
    lines.append("[intersection.plan.stages]")
    for i in range(len(stages)):
        recall = draw(st.sampled_from(["none", "none", "min", "max", "ped"]))
        mx = floor[i] + draw(st.integers(0, 30))
        lines.append(f'S{i + 1} = {{ max_green_s = {mx}, recall = "{recall}" }}')
    greens = {i: floor[i] + draw(st.integers(0, 20)) for i in range(len(stages))}
    worst = max(v for v in inter.values()) + fg if inter else 0.0
    cycle = min(300.0, 20.0 + sum(greens.values()) + worst * len(stages) + draw(st.integers(0, 10)))
    lines += ['[[intersection.plan]]', 'id = "fix"', 'mode = "fixed"', f"cycle_s = {cycle}",
              f"offset_s = {float(draw(st.integers(0, int(cycle) - 1)))}"]
    lines.append("[intersection.plan.stages]")
    for i in range(len(stages)):
        lines.append(f"S{i + 1} = {{ green_s = {greens[i]} }}")
    return "\n".join(lines) + "\n"
