# What the node loads (unix port, a fresh process): the master side of the Modbus codec is
# for the cabinet's tools; a node that only serves never imports it (nor pays its heap).
import sys

from board import bus  # noqa: F401
from node import app

from fx import eq


def test_node_does_not_load_the_modbus_master():
    # the node takes the slave side from the codec's own modules: neither the facade
    # (protocols.modbus_rtu, a table of re-exported names) nor the master is loaded
    eq("protocols.modbus_rtu" in sys.modules, False, "the facade is not loaded")
    eq("protocols.rtu.slave" in sys.modules, True, "the slave side is")
    eq("protocols.rtu.master" in sys.modules, False, "the master side is not")


def test_the_master_is_still_there_on_demand():
    from protocols.modbus_rtu import master

    eq(len(master.read_coils(1, 0, 1)), 8)


def test_manifest_check_code_is_the_register_maps():
    from node import manifest_check

    from protocols import register_map as rm

    eq(manifest_check.CFG_FILES, rm.CFG_FILES)


def test_the_board_table_leaves_the_heap_after_boot():
    # protocols.boards is read by node.json's parser only: it goes with it (app.BOOT_ONLY)
    from node import config

    eq(config.parse({"board": "esp32"}).error_text.startswith("board"), False)
    eq("protocols.boards" in sys.modules, True)
    app._unload(app.BOOT_ONLY)
    eq("protocols.boards" in sys.modules, False, "the board table is unloaded")
    eq("node.config" in sys.modules, False)
