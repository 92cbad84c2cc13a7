"""The register map: blocks, the poll's size, value helpers. Runs on CPython and MicroPython."""

from protocols import aspects
from protocols import register_map as rm
from protocols.modbus_rtu import COIL, DISCRETE, HOLDING, INPUT, master


def test_layout_version_is_at_a_fixed_address():
    assert rm.LAYOUT_VERSION_REG == 256
    assert rm.readable(HOLDING, 256, 1) and rm.readable(INPUT, 256, 1)
    assert isinstance(rm.LAYOUT_VERSION, int) and rm.LAYOUT_VERSION >= 1


def test_blocks_do_not_overlap():
    for kind in (COIL, DISCRETE, HOLDING, INPUT):
        spans = sorted((b[1], b[1] + b[2]) for b in rm.BLOCKS if b[0] == kind)
        for k in range(1, len(spans)):
            assert spans[k - 1][1] <= spans[k][0], (kind, spans)


def test_poll_is_one_contiguous_fc23():
    assert rm.POLL_WRITE_ADDR == rm.HEARTBEAT == 0
    assert rm.writable(HOLDING, rm.POLL_WRITE_ADDR, rm.POLL_WRITE_COUNT)
    assert rm.readable(HOLDING, rm.POLL_READ_ADDR, rm.POLL_READ_COUNT)
    assert not rm.writable(HOLDING, rm.POLL_READ_ADDR, 1)
    # every process-image register is inside the read window
    for addr in (rm.PI_HEARTBEAT, rm.PI_MODE, rm.PI_FAULTS, rm.PI_GUARD_REFUSALS,
                 rm.PI_LAMP_ASPECT + 3, rm.PI_RED_FAIL, rm.PI_LAMP_FAIL,
                 rm.PI_DET_PRESENCE + 1, rm.PI_DET_FAULT + 1, rm.PI_BAY_OCCUPIED + 1,
                 rm.PI_BAY_FAULT + 1):
        assert rm.POLL_READ_ADDR <= addr < rm.POLL_READ_ADDR + rm.POLL_READ_COUNT
    assert rm.SIGNAL_CMD + rm.MAX_GROUPS // 4 <= rm.POLL_WRITE_ADDR + rm.POLL_WRITE_COUNT


def test_poll_fits_eight_nodes_in_100_ms_at_115200():
    req = master.read_write_registers(1, rm.POLL_READ_ADDR, rm.POLL_READ_COUNT,
                                      rm.POLL_WRITE_ADDR, [0] * rm.POLL_WRITE_COUNT)
    resp_len = master.response_length(req)
    assert (len(req), resp_len) == (25, 41)
    wire_us = (len(req) + resp_len) * 11 * 1000000 // 115200 + 2 * 1750
    assert 8 * wire_us < 80000      # leaves > 2.5 ms per node for its turnaround


def test_input_registers_mirror_read_only_holding_blocks():
    for b in rm.BLOCKS:
        if b[0] == HOLDING and not b[3]:
            assert rm.readable(INPUT, b[1], b[2])
    assert not rm.readable(INPUT, rm.CMD_BLOCK, 1)


def test_readable_writable_edges():
    assert rm.readable(HOLDING, 16, 18)
    assert not rm.readable(HOLDING, 16, 19)
    assert not rm.readable(HOLDING, 6, 1)
    assert not rm.readable(HOLDING, 0, 0)
    assert rm.writable(COIL, rm.COIL_REQUEST_FLASH, rm.COIL_COUNT)
    assert not rm.writable(COIL, 0, rm.COIL_COUNT + 1)
    assert not rm.writable(DISCRETE, 0, 1)
    assert rm.readable(DISCRETE, rm.DI_LAMP_FAIL + 15, 1)
    assert not rm.readable(DISCRETE, rm.DI_COUNT, 1)


def test_status_block_covers_every_status_register():
    for addr in (rm.LAYOUT_VERSION_REG, rm.FW_VERSION, rm.FW_PATCH, rm.UPTIME_S + 1,
                 rm.RESET_CAUSE, rm.BOOT_COUNT, rm.FAULTS, rm.MODE, rm.FRAMES_OK,
                 rm.CRC_ERRORS, rm.EXCEPTIONS, rm.SAFETY_CRC + 1, rm.CONFIG_ERROR,
                 rm.N_GROUPS, rm.N_DETECTORS, rm.N_BAYS, rm.GUARD_REFUSALS):
        assert rm.readable(HOLDING, addr, 1) and rm.readable(INPUT, addr, 1)
    assert rm.STATUS_BLOCK + rm.STATUS_BLOCK_COUNT == rm.GUARD_REFUSALS + 1


def test_detector_blocks_have_one_register_per_detector():
    for base in (rm.DET_COUNT, rm.DET_OCCUPANCY, rm.DET_DIAG):
        assert rm.readable(HOLDING, base, rm.MAX_DETECTORS)
    assert rm.DET_OCCUPANCY - rm.DET_COUNT == rm.MAX_DETECTORS
    assert rm.DI_DET_FAULT - rm.DI_DET_PRESENCE == rm.MAX_DETECTORS


def test_u32_high_word_first():
    assert rm.split_u32(0x12345678) == (0x1234, 0x5678)
    assert rm.join_u32(0x1234, 0x5678) == 0x12345678
    regs = [0] * 4
    rm.set_u32(regs, 1, 0xDEADBEEF)
    assert regs == [0, 0xDEAD, 0xBEEF, 0]
    assert rm.get_u32(regs, 1) == 0xDEADBEEF
    assert rm.split_u32(-1) == (0xFFFF, 0xFFFF)
    assert rm.split_u32(1 << 32) == (0, 0)


def test_bitmaps():
    regs = [0] * 3
    for i in (0, 5, 15, 16, 31):
        rm.set_bit(regs, 1, i, 1)
    assert regs == [0, 0x8021, 0x8001]
    assert [i for i in range(32) if rm.get_bit(regs, 1, i)] == [0, 5, 15, 16, 31]
    rm.set_bit(regs, 1, 15, 0)
    assert regs[1] == 0x0021
    assert rm.regs_to_bits(regs, 1, 2) == 0x80010021
    out = [0] * 2
    rm.bits_to_regs(0x80010021, out, 0, 2)
    assert out == [0x0021, 0x8001]


def test_bitmaps_on_array():
    from array import array
    regs = array("H", [0, 0])
    rm.set_bit(regs, 0, 17, 1)
    assert regs[1] == 2 and rm.get_bit(regs, 0, 17) == 1


def test_aspect_packing():
    seq = [aspects.RED, aspects.GREEN, aspects.AMBER, aspects.FLASH_RED, aspects.RED_AMBER]
    regs = [0xFFFF] * 6
    rm.pack_aspects(seq, regs, 1)
    assert regs[1] == 0x7531 and regs[2] == 0x0002 and regs[3] == regs[4] == 0
    assert regs[0] == regs[5] == 0xFFFF
    assert rm.unpack_aspects(regs, 1, 5) == seq
    rm.set_nibble(regs, 1, 15, rm.ASPECT_INVALID)
    assert rm.get_nibble(regs, 1, 15) == 15 and regs[4] == 0xF000


def test_every_aspect_fits_a_nibble():
    assert aspects.COUNT <= 15 and rm.ASPECT_INVALID >= aspects.COUNT


def test_command_regs_and_process_image():
    regs = rm.command_regs(0x1_0005, rm.MODE_RUN | rm.CMD_ACK_FAULTS, [aspects.GREEN] * 16)
    assert regs[0] == 5 and regs[1] == 0x0103 and regs[2:] == [0x3333] * 4
    pi = [0] * rm.POLL_READ_COUNT
    b = rm.POLL_READ_ADDR
    pi[rm.PI_HEARTBEAT - b] = 5
    pi[rm.PI_MODE - b] = rm.MODE_RUN
    rm.pack_aspects([aspects.RED, aspects.GREEN], pi, rm.PI_LAMP_ASPECT - b)
    rm.set_bit(pi, rm.PI_DET_PRESENCE - b, 20, 1)
    rm.set_bit(pi, rm.PI_BAY_FAULT - b, 31, 1)
    d = rm.decode_process_image(pi, 2)
    assert d["heartbeat"] == 5 and d["mode"] == rm.MODE_RUN
    assert d["aspects"] == [aspects.RED, aspects.GREEN]
    assert d["det_presence"] == 1 << 20 and d["bay_fault"] == 1 << 31
    assert d["bay_occupied"] == 0 and d["faults"] == 0


def test_value_tables_are_consistent():
    assert len(rm.MODE_NAMES) == rm.MODE_SAFE + 1
    assert len(rm.FAULT_NAMES) == 12 and rm.FAULT_POWER == 1 << 9
    assert rm.FAULT_BOOT_LOOP == 1 << 10 and rm.FAULT_NAMES[10] == "boot-loop"
    assert rm.FAULT_DUAL == 1 << 11 and rm.FAULT_NAMES[11] == "dual-indication"
    assert rm.CFG_NAMES[rm.CFG_UNREADABLE] == "unreadable" and rm.CFG_UNREADABLE == 6
    assert rm.CFG_NAMES[rm.CFG_FILES] == "files" and len(rm.CFG_NAMES) == rm.CFG_FILES + 1
    for m in rm.REQUESTABLE_MODES:
        assert m & rm.CMD_MODE_MASK == m
    assert rm.CMD_ACK_FAULTS & rm.CMD_MODE_MASK == 0


def test_detector_diagnostic_flags():
    flags = (rm.DIAG_NO_ACTIVITY, rm.DIAG_MAX_PRESENCE, rm.DIAG_ERRATIC_COUNTS,
             rm.DIAG_REPORTED_OTHER, rm.DIAG_WATCHDOG, rm.DIAG_OPEN_LOOP,
             rm.DIAG_SHORTED_LOOP, rm.DIAG_EXCESSIVE_CHANGE)
    acc = 0
    for f in flags:
        assert f & (f - 1) == 0 and not f & acc     # one bit each, all different
        acc |= f
    assert acc == rm.DIAG_FAULTS
    assert rm.DIAG_OPEN_LOOP >> 8 == 1 << 2          # NTCIP reportedAlarms bit 2
