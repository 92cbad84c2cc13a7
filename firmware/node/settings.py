"""The node's settings as read from node.json: plain records, filled in by config.py (which
is unloaded after boot, so nothing here may depend on it). Defaults are what a node with an
unreadable file runs with: it answers the bus, it drives no heads."""

from protocols import register_map as rm


class Config:
    def __init__(self):
        self.error = rm.CFG_OK
        self.error_text = ""
        self.node_id = "?"
        self.address = 247
        self.baud = 19200
        self.parity = "E"
        self.uart_id = 1
        self.tx = 17
        self.rx = 16
        self.de = 4
        self.comm_timeout_ms = 1000
        self.scan_ms = 10
        self.maintenance_pin = None
        self.maintenance_active_low = True
        self.status_led = None
        self.outputs_active_low = False
        self.groups = []  # type: list[Group]
        self.detectors = []  # type: list[Detector]
        self.bays = []  # type: list[Bay]
        self.interval_s = 60
        self.startup_flash_ms = 5000    # safety.startup_flash_ms, else this default
        self.all_red_ms = 3000          # safety.all_red_ms, else this default
        self.refusal_limit = 5
        self.refusal_window_ms = 10000
        self.defer_ms = 250
        self.wdt_ms = 5000
        self.boot_limit = 3
        self.stable_s = 30
        self.tables = None  # type: dict | None
        self.tables_crc = 0

    def fail(self, code, text):
        """Keep the first problem."""
        if self.error == rm.CFG_OK:
            self.error = code
            self.error_text = text


class Group:
    """A signal head's hardware: output pins per lamp, optional lamp-feedback pins."""

    def __init__(self):
        self.id = ""
        self.kind = ""              # from the safety tables, once they are accepted
        self.red = self.amber = self.green = None  # type: int | None
        self.flash_red = False
        self.fb_red = self.fb_amber = self.fb_green = None  # type: int | None
        self.fb_active_low = False

    def pins(self):
        return (self.red, self.amber, self.green, self.fb_red, self.fb_amber, self.fb_green)


class Detector:
    def __init__(self):
        self.id = ""
        self.pin = 0
        self.active_low = False
        self.debounce_ms = 20
        self.no_activity_min = 0
        self.max_presence_min = 0
        self.erratic_per_min = 0

    def pins(self):
        return (self.pin,)


class Bay:
    def __init__(self):
        self.id = ""
        self.type = "digital"
        self.pin = self.trigger = self.echo = 0
        self.active_low = False
        self.debounce_ms = 2000
        self.period_ms = 500
        self.occupied_cm = 100
        self.free_cm = 130
        self.max_cm = 150
        self.confirm = 3
        self.fault_after = 5

    def pins(self):
        if self.type == "digital":
            return (self.pin,)
        return (self.trigger, self.echo)
