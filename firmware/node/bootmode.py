"""What happens before the node runs: the maintenance pin and the boot counter.

* Maintenance: the maintenance pin held at boot keeps the hardware watchdog off (it cannot
  be stopped once started), so a technician can stop the firmware at the REPL. It also
  clears the boot counter.
* Boot loop: RTC memory (kept through resets, lost at power-on) counts the boots that did
  not reach a stable run (supervisor.py clears the count after stable_s seconds). When the
  count passes boot_limit, the node starts in safe mode: flash, bus answering, no control.
  Safe mode lasts until a power cycle or a maintenance boot: a run in safe mode never
  clears the count.
* Boots since provisioning: a small file, for the BOOT_COUNT register.

RTC memory layout: b"SCB1", unstable boots (u8).
"""

import board

MAGIC = b"SCB1"
BOOTS_FILE = "boots.dat"


def unstable_boots():
    mem = board.rtc_memory()
    if len(mem) >= 5 and mem[:4] == MAGIC:
        return mem[4]
    return 0


def set_unstable_boots(n):
    board.set_rtc_memory(MAGIC + bytes((min(n, 255),)))


def maintenance_held(cfg):
    if cfg.maintenance_pin is None:
        return False
    level = board.input_pin(cfg.maintenance_pin, pull_up=cfg.maintenance_active_low).value()
    return level == (0 if cfg.maintenance_active_low else 1)


def count_boot():
    """Boots since provisioning (the file goes with node.json), 0 if it cannot be kept."""
    n = 0
    try:
        with open(BOOTS_FILE) as f:
            n = int(f.read())
    except (OSError, ValueError):
        pass
    n += 1
    try:
        with open(BOOTS_FILE, "w") as f:
            f.write(str(n))
    except OSError:
        pass
    return n


class BootState:
    """Decided once per boot (boot.py), used by main.py."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.maintenance = maintenance_held(cfg)
        self.reset_cause = board.reset_cause()
        self.boots = count_boot()
        n = 0 if self.maintenance else unstable_boots() + 1
        set_unstable_boots(n)
        self.unstable = n
        self.safe = n > cfg.boot_limit
