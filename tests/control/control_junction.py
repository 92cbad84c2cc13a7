"""Control-layer tests: a four-leg junction with permissive lefts, written out by hand."""

GROUPS = ["EB_TR", "WB_TR", "EB_L", "WB_L", "NB_TR", "SB_TR"]


def junction_toml(plan: str = "adaptive", lead: bool = True) -> str:
    """Main road with permissive lefts (and a protected-left stage, leading or lagging),
    a side road; an advance and a stop-bar loop per group."""
    lines = ['name = "permissive test"', '[[bus]]', 'id = "b"', 'port = "/dev/null"',
             '[[schedule]]', 'at = "00:00"', f'plan = "{plan}"',
             '[[intersection]]', 'id = "X"', 'profile = "US"', 'startup_flash_s = 4',
             'startup_all_red_s = 2',
             '  [[intersection.node]]', '  id = "n"', '  bus = "b"', '  address = 1',
             '  board = "esp32s3"',
             '  [[intersection.node]]', '  id = "d"', '  bus = "b"', '  address = 2']
    for k, g in enumerate(GROUPS):
        lines += ['  [[intersection.group]]', f'  id = "{g}"', '  kind = "vehicle"',
                  '  amber_s = 3', f'  min_green_s = {5 if g.endswith("L") else 7}',
                  '  node = "n"', f'  channels = [{3 * k}, {3 * k + 1}, {3 * k + 2}]']
    lines += ['  [intersection.conflicts]',
              '  NB_TR = ["EB_TR", "WB_TR", "EB_L", "WB_L"]',
              '  SB_TR = ["EB_TR", "WB_TR", "EB_L", "WB_L"]',
              '  [intersection.permissive]', '  EB_L = ["WB_TR"]', '  WB_L = ["EB_TR"]',
              '  [intersection.intergreen]',
              '  NB_TR = { EB_TR = 5, WB_TR = 5, EB_L = 6, WB_L = 6 }',
              '  SB_TR = { EB_TR = 5, WB_TR = 5, EB_L = 6, WB_L = 6 }',
              '  EB_TR = { NB_TR = 5, SB_TR = 5, WB_L = 5 }',
              '  WB_TR = { NB_TR = 5, SB_TR = 5, EB_L = 5 }',
              '  EB_L = { NB_TR = 6, SB_TR = 6, WB_TR = 6 }',
              '  WB_L = { NB_TR = 6, SB_TR = 6, EB_TR = 6 }']
    main = ["EB_TR", "WB_TR", "EB_L", "WB_L"]
    stages = [("L", ["EB_L", "WB_L"]), ("M", main), ("S", ["NB_TR", "SB_TR"])]
    if not lead:
        stages = [stages[1], stages[0], stages[2]]
    for sid, gs in stages:
        lines += ['  [[intersection.stage]]', f'  id = "{sid}"',
                  f'  groups = [{", ".join(map(repr, gs))}]'.replace("'", '"')]
    inp = 0
    for g in GROUPS:
        for kind, passage in (("presence", 2.0), ("counting", 1.5)):
            lines += ['  [[intersection.detector]]', f'  id = "{g}-{kind[0]}"',
                      f'  kind = "{kind}"', '  node = "d"', f'  input = {inp}',
                      f'  calls = ["{g}"]', f'  extends = ["{g}"]', f'  passage_s = {passage}']
            inp += 1
    for pid, mode in (("adaptive", "adaptive"), ("actuated", "actuated"),
                      ("coordinated", "coordinated")):
        lines += ['  [[intersection.plan]]', f'  id = "{pid}"', f'  mode = "{mode}"',
                  '  main_stage = "M"']
        if mode == "coordinated":
            lines += ['  cycle_s = 70', '  offset_s = 13']
        lines += ['  [intersection.plan.stages]', '  L = { max_green_s = 10 }',
                  '  M = { max_green_s = 40 }', '  S = { max_green_s = 20 }']
    lines += ['  [[intersection.plan]]', '  id = "fixed"', '  mode = "fixed"', '  cycle_s = 70',
              '  main_stage = "M"', '  [intersection.plan.stages]', '  L = { green_s = 8 }',
              '  M = { green_s = 30 }', '  S = { green_s = 10 }']
    return "\n".join(lines) + "\n"
