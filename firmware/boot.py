# boot.py: runs first after every reset. It only reads node.json, checks the maintenance
# pin and counts the boot (node/bootmode.py); it starts nothing, so the watchdog stays off
# when the maintenance pin is held. An error here must not keep main.py from running.
# First the files against manifest.json (node/manifest_check.py), before anything else of
# the node is imported; a mismatch fails the configuration: safe mode for good.
# A monitor unit (a board holding monitor.json) gets the same file check, its verdict handed
# to munit (which keeps the transfer relay dropped on a mismatch); main.py starts it.
import os

try:
    os.stat("monitor.json")
    _unit = True
except OSError:
    _unit = False
try:
    from node import manifest_check

    _files = manifest_check.check()
    manifest_check.forget()
    del manifest_check
except Exception as e:  # noqa: BLE001 - a check that cannot run is a failed check
    _files = (7, "manifest: MISMATCH the check failed: %r" % (e,))
print(_files[1])
if _unit:
    import munit

    munit.files = _files
else:
    try:
        from node import app

        app.prepare()
        if _files[0]:
            app.prepare().cfg.fail(_files[0], _files[1][len("manifest: "):])
    except Exception as e:  # noqa: BLE001
        print("boot.py:", repr(e))
