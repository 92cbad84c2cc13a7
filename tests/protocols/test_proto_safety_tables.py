"""Safety tables: canonical encoding, CRC-32 and validation. Runs on CPython and MicroPython
(the CRC must be the same number on both VMs: node and controller compare it)."""

from protocols import safety_tables as st


def _tables():
    return {
        "groups": [
            {"id": "A1", "kind": "vehicle", "amber_ms": 3000, "red_amber_ms": 2000,
             "flash_green_ms": 3000, "min_green_ms": 5000, "clearance_ms": 1000},
            {"id": "B1", "kind": "vehicle", "amber_ms": 4000, "red_amber_ms": 1000,
             "flash_green_ms": 0, "min_green_ms": 8000, "clearance_ms": 0},
            {"id": "P1", "kind": "pedestrian", "amber_ms": 0, "red_amber_ms": 0,
             "flash_green_ms": 0, "min_green_ms": 5000, "clearance_ms": 7000},
            {"id": "L1", "kind": "arrow", "amber_ms": 0, "red_amber_ms": 0,
             "flash_green_ms": 3000, "min_green_ms": 4000, "clearance_ms": 0},
        ],
        "conflicts": [[0, 1], [1, 2], [0, 3]],
        "intergreen_ms": [[0, 1, 5000], [1, 0, 6000], [1, 2, 4000], [2, 1, 9000],
                          [0, 3, 4000], [3, 0, 2000]],
    }


# Pinned: if this changes, the encoding changed and every provisioned node's SAFETY_CRC
# with it. Bump safety_tables.VERSION when that is intended.
# Tables without start-up times still encode as version 1: this number has not changed
# since version 1 (start-up times were added as version 2 so that it would not).
GOLDEN_CRC = 0x224B9C7D
# The same tables with startup_flash_ms 6000 and all_red_ms 2500 (version 2), as the
# controller provisions them since the start-up timing is covered by the CRC.
GOLDEN_CRC_V2 = 0x6551D635


def _with_startup(t=None, flash=6000, all_red=2500):
    t = _tables() if t is None else t
    t["startup_flash_ms"] = flash
    t["all_red_ms"] = all_red
    return t


def _reordered(t):
    # Same tables written differently: keys in another order, conflicts reversed and
    # repeated, intergreens shuffled and repeated.
    groups = []
    for g in t["groups"]:
        d = {}
        for k in reversed(sorted(g)):
            d[k] = g[k]
        groups.append(d)
    return {
        "intergreen_ms": list(reversed(t["intergreen_ms"])) + [t["intergreen_ms"][0]],
        "conflicts": [[j, i] for i, j in t["conflicts"]] + [list(t["conflicts"][0])],
        "groups": groups,
        "comment": "not covered",
    }


def test_valid_tables_validate():
    assert st.validate(_tables()) is None


def test_crc_is_crc32_of_encoding():
    import binascii
    t = _tables()
    assert st.crc(t) == binascii.crc32(st.encode(t)) & 0xFFFFFFFF
    assert 0 <= st.crc(t) <= 0xFFFFFFFF


def test_golden_crc():
    assert st.crc(_tables()) == GOLDEN_CRC, hex(st.crc(_tables()))


def test_encoding_header():
    e = st.encode(_tables())
    assert e[:4] == b"SCST" and e[4] == st.VERSION and e[5] == 4


def test_canonical_under_reordering_and_duplicates():
    t = _tables()
    assert st.encode(_reordered(t)) == st.encode(t)
    assert st.crc(_reordered(t)) == st.crc(t)
    assert st.validate(_reordered(t)) is None


def test_tuples_and_lists_encode_alike():
    t = _tables()
    u = _tables()
    u["conflicts"] = [tuple(p) for p in u["conflicts"]]
    u["intergreen_ms"] = [tuple(x) for x in u["intergreen_ms"]]
    assert st.encode(t) == st.encode(u)


def test_every_covered_field_changes_the_crc():
    base = st.crc(_tables())
    for key in st.TIMES:
        t = _tables()
        t["groups"][1][key] += 1
        assert st.crc(t) != base, key
    t = _tables()
    t["groups"][0]["id"] = "A2"
    assert st.crc(t) != base
    t = _tables()
    t["groups"][3]["kind"] = "vehicle"
    assert st.crc(t) != base
    t = _tables()
    t["conflicts"].append([2, 3])
    assert st.crc(t) != base
    t = _tables()
    t["intergreen_ms"][0][2] += 1
    assert st.crc(t) != base
    t = _tables()
    t["groups"][0], t["groups"][1] = t["groups"][1], t["groups"][0]
    assert st.crc(t) != base        # group order is the local index: it matters


def test_missing_times_count_as_zero():
    t = _tables()
    del t["groups"][1]["flash_green_ms"]
    u = _tables()
    u["groups"][1]["flash_green_ms"] = 0
    assert st.encode(t) == st.encode(u)


def test_encode_refuses_what_it_cannot_represent():
    for bad in ({"groups": [{"id": "x", "kind": "tram"}]},
                {"groups": [{"id": "x", "kind": "vehicle", "amber_ms": -1}]},
                {"groups": [{"id": "x", "kind": "vehicle", "amber_ms": 1 << 32}]},
                {"groups": [], "conflicts": [[0, 300]]}):
        try:
            st.encode(bad)
        except ValueError:
            pass
        else:
            raise AssertionError(repr(bad))


def _err(mutate):
    t = _tables()
    mutate(t)
    return st.validate(t)


def test_validate_missing_intergreen_for_a_conflict():
    def drop(t):
        t["intergreen_ms"] = [x for x in t["intergreen_ms"] if x[:2] != [2, 1]]
    assert "P1->B1 has no intergreen" in _err(drop)


def test_validate_symmetric_closure_of_conflicts():
    def one_way(t):
        t["conflicts"].append([2, 0])           # needs 2->0 and 0->2
        t["intergreen_ms"].append([0, 2, 5000])
    assert "P1->A1 has no intergreen" in _err(one_way)


def test_validate_intergreen_covers_amber_and_clearance():
    def short(t):
        t["intergreen_ms"][0][2] = 3999         # A1: amber 3000 + red clearance 1000
    assert "A1->B1 3999 ms < 4000 ms" in _err(short)

    def ped(t):
        t["intergreen_ms"][3][2] = 6999         # P1: pedestrian clearance 7000
    assert "P1->B1" in _err(ped)


def test_validate_vehicle_amber_at_least_3_s():
    def a(t):
        t["groups"][1]["amber_ms"] = 2900
    assert "amber" in _err(a)


def test_validate_arrow_amber_zero_or_at_least_3_s():
    def a(t):
        t["groups"][3]["amber_ms"] = 1000
    assert "arrow amber" in _err(a)

    def ok(t):
        t["groups"][3]["amber_ms"] = 3000
        t["intergreen_ms"][5][2] = 3000
    assert _err(ok) is None


def test_validate_pedestrian_has_no_amber():
    def a(t):
        t["groups"][2]["amber_ms"] = 3000
    assert "no amber" in _err(a)


def test_validate_red_amber_at_most_2_s():
    def a(t):
        t["groups"][0]["red_amber_ms"] = 2500
    assert "red+amber" in _err(a)


def test_validate_indices_and_shapes():
    def out_of_range(t):
        t["conflicts"].append([0, 4])
    assert "out of range" in _err(out_of_range)

    def self_conflict(t):
        t["conflicts"].append([1, 1])
    assert "itself" in _err(self_conflict)

    def bad_inter(t):
        t["intergreen_ms"].append([0, 9, 5000])
    assert "bad group indices" in _err(bad_inter)

    def not_pair(t):
        t["conflicts"].append([0, 1, 2])
    assert "not a pair" in _err(not_pair)

    def float_ms(t):
        t["intergreen_ms"].append([2, 3, 1.5])
    assert "integer" in _err(float_ms)


def test_validate_duplicate_intergreen_with_different_times():
    def dup(t):
        t["intergreen_ms"].append([0, 1, 7000])
    assert "twice" in _err(dup)

    def same(t):
        t["intergreen_ms"].append([0, 1, 5000])
    assert _err(same) is None


def test_validate_groups():
    # a detector-only node drives no heads: its tables are empty, and valid
    assert st.validate({"groups": []}) is None
    assert st.validate({"groups": {}}) is not None
    assert st.validate([]) is not None

    def dup_id(t):
        t["groups"][1]["id"] = "A1"
    assert "duplicate" in _err(dup_id)

    def kind(t):
        t["groups"][1]["kind"] = "tram"
    assert "kind" in _err(kind)

    def min_green(t):
        t["groups"][1]["min_green_ms"] = 0
    assert "min_green" in _err(min_green)

    def too_many(t):
        t["groups"] = [dict(t["groups"][1], id="G" + str(k)) for k in range(17)]
        t["conflicts"] = []
        t["intergreen_ms"] = []
    assert "at most 16" in _err(too_many)


def test_non_conflicting_intergreens_are_allowed_and_covered():
    t = _tables()
    t["intergreen_ms"].append([2, 3, 0])
    assert st.validate(t) is None
    assert st.crc(t) != st.crc(_tables())


def test_helpers():
    t = _tables()
    assert (1, 0) in st.conflict_set(t) and (0, 1) in st.conflict_set(t)
    assert st.intergreen_table(t)[(2, 1)] == 9000
    assert st.clearing_ms(t["groups"][0]) == 4000
    assert st.clearing_ms(t["groups"][2]) == 7000


# --- start-up times (version 2) -----------------------------------------------------------

def test_golden_crc_v2():
    assert st.crc(_with_startup()) == GOLDEN_CRC_V2, hex(st.crc(_with_startup()))


def test_v2_is_v1_plus_the_startup_times():
    v1 = st.encode(_tables())
    v2 = st.encode(_with_startup())
    assert v1[4] == st.VERSION == 1 and v2[4] == st.VERSION_STARTUP == 2
    assert v2[5:] == v1[5:] + bytes((0, 0, 0x17, 0x70, 0, 0, 0x09, 0xC4))   # 6000, 2500
    assert st.validate(_with_startup()) is None


def test_startup_times_change_the_crc():
    base = st.crc(_with_startup())
    assert st.crc(_tables()) != base
    assert st.crc(_with_startup(flash=6001)) != base
    assert st.crc(_with_startup(all_red=2501)) != base
    assert st.crc(_with_startup(flash=2500, all_red=6000)) != base   # order matters


def test_startup_times_validated_together():
    assert st.validate(_with_startup(flash=4000, all_red=1000)) is None
    assert st.validate(_with_startup(flash=11000, all_red=60000)) is None
    assert "startup_flash_ms" in st.validate(_with_startup(flash=3999))
    assert "startup_flash_ms" in st.validate(_with_startup(flash=11001))
    assert "all_red_ms" in st.validate(_with_startup(all_red=999))
    assert "all_red_ms" in st.validate(_with_startup(flash=True))
    t = _tables()
    t["startup_flash_ms"] = 6000
    assert "all_red_ms" in st.validate(t)
    t = _tables()
    t["all_red_ms"] = 2500
    assert "startup_flash_ms" in st.validate(t)


def test_startup_times_reordered_tables_encode_alike():
    t = _with_startup()
    assert st.encode(_with_startup(_reordered(_tables()))) == st.encode(t)
