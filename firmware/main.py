# main.py: the smartcross field node; or, on a board that holds a monitor.json, the monitor
# unit (munit/, firmware/README.md "The monitor unit").
import os


def _unit_role():
    try:
        os.stat("monitor.json")
        return True
    except OSError:
        return False


if _unit_role():
    from munit import app as unit_app

    unit_app.main()
else:
    from node import app

    app.main()
