"""Signal heads: the lamps of every group driven from the aspect it shows.

Per group up to three outputs (red, amber, green; pedestrians red and green). Flashing is
done here, from a phase the caller keeps (protocols.aspects.lamps: 1 Hz, on for the first
500 ms). Lamps going off are switched before lamps going on, so a change never shows two
indications at once. Only changed pins are written.
"""

import board
from protocols.aspects import DARK, FLASH_AMBER, FLASH_RED, LAMP_AMBER, LAMP_GREEN, LAMP_RED, lamps

_CHANNELS = (LAMP_RED, LAMP_AMBER, LAMP_GREEN)


class Heads:
    def __init__(self, groups, active_low):
        self.inv = 1 if active_low else 0
        self.pins = []
        self.flash_aspect = bytearray(len(groups))
        for i in range(len(groups)):
            g = groups[i]
            self.pins.append(tuple(None if p is None else board.output_pin(p, self.inv)
                                   for p in (g.red, g.amber, g.green)))
            if g.amber is not None and g.kind != "pedestrian":
                self.flash_aspect[i] = FLASH_RED if g.flash_red else FLASH_AMBER
            else:
                self.flash_aspect[i] = DARK
        self.lit = bytearray(len(groups))       # lamp bits driven now

    def render(self, shown, phase_ms):
        """Drive every group's lamps for aspects `shown` at flash phase `phase_ms`."""
        inv = self.inv
        for g in range(len(self.pins)):
            want = lamps(shown[g], phase_ms)
            have = self.lit[g]
            if want == have:
                continue
            pins = self.pins[g]
            for on in (0, 1):                   # break before make
                for k in range(3):
                    bit = _CHANNELS[k]
                    if (want & bit) != (have & bit) and bool(want & bit) == bool(on):
                        p = pins[k]
                        if p is not None:
                            p.value(on ^ inv)
            self.lit[g] = want
