# boot.py: runs first after every reset. It only reads node.json, checks the maintenance
# pin and counts the boot (node/bootmode.py); it starts nothing, so the watchdog stays off
# when the maintenance pin is held. An error here must not keep main.py from running.
try:
    from node import app

    app.prepare()
except Exception as e:  # noqa: BLE001
    print("boot.py:", repr(e))
