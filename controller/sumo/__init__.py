"""Software-in-the-loop with Eclipse SUMO: import a network, run the timing core against it.

`network` reads what a SUMO network says about its traffic lights; `importer` turns that
into an intersection-group configuration; `sil` runs the unchanged timing core against
SUMO through libsumo, the monitor watching.
"""


class SumoError(Exception):
    """A SUMO network, configuration or run that cannot be used; the message says why."""
