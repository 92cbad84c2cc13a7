"""`comm_timeout_ms`: a node's comm watchdog, per bus or per node, checked against how often
the runtime polls that node, and carried into the node's node.json."""

from cfgtools import edit, example_text, only, problems_of

from controller.config import loads
from controller.config.model import COMM_TIMEOUT_MS
from controller.provisioning import node_documents

EU = example_text("eu_junction.toml")
CORRIDOR = example_text("corridor.toml")
BUS = 'id = "schrank-rs485"\nport = "/dev/ttyS1"\n'
NODE = '  id = "lsa-1"\n  bus = "schrank-rs485"\n'


def test_the_default_reaches_every_node_file():
    docs = node_documents(loads(EU))
    assert {d["modbus"]["comm_timeout_ms"] for d in docs.values()} == {COMM_TIMEOUT_MS}


def test_a_bus_timeout_reaches_its_nodes_and_a_node_timeout_wins():
    text = edit(EU, (BUS, BUS + "comm_timeout_ms = 2500\n"))
    assert node_documents(loads(text))["lsa-1"]["modbus"]["comm_timeout_ms"] == 2500
    text = edit(text, (NODE, NODE + "  comm_timeout_ms = 700\n"))
    assert node_documents(loads(text))["lsa-1"]["modbus"]["comm_timeout_ms"] == 700


def test_a_bus_timeout_shorter_than_three_poll_cycles_names_the_key(tmp_path):
    text = edit(EU, (BUS, BUS + "comm_timeout_ms = 250\n"))
    only(problems_of(tmp_path, text), "bus[schrank-rs485].comm_timeout_ms",
         "250 ms", "3 poll cycles", "300 ms")


def test_a_node_timeout_shorter_than_three_poll_cycles_names_the_node(tmp_path):
    text = edit(EU, (NODE, NODE + "  comm_timeout_ms = 299\n"))
    only(problems_of(tmp_path, text),
         "intersection[haupt-bahnhof].node[lsa-1].comm_timeout_ms", "299 ms", "3 poll cycles")


def test_three_poll_cycles_is_enough(tmp_path):
    text = edit(EU, (NODE, NODE + "  comm_timeout_ms = 300\n"))
    assert node_documents(loads(text))["lsa-1"]["modbus"]["comm_timeout_ms"] == 300


def test_a_slow_bus_stretches_the_cycle_and_the_floor_with_it(tmp_path):
    # 4 nodes at 1200 baud need far more than 100 ms of wire per cycle
    text = edit(CORRIDOR, ("baud = 115200", "baud = 1200"))
    problems = problems_of(tmp_path, text.replace("[[bus]]", "[[bus]]\ncomm_timeout_ms = 1000", 1))
    only(problems, "bus[abay-rs485].comm_timeout_ms", "is 1000 ms", "stretch its cycle")


def test_a_timeout_the_node_would_refuse_is_out_of_range(tmp_path):
    text = edit(EU, (BUS, BUS + "comm_timeout_ms = 90000\n"))
    only(problems_of(tmp_path, text), "bus[schrank-rs485].comm_timeout_ms", "60000")
