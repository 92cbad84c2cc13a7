"""The city layer's central service (`smartcross city`): every cabinet's telemetry from
the MQTT broker (docs/TELEMETRY.md), kept in SQLite, served as a read-only JSON API and a
live web page, and parking guidance published to variable message signs; with
`--operators FILE`, a logged-in operator may select a plan or request flash of a cabinet
whose TOML allows it (docs/TELEMETRY.md, "The command path").

| module | what |
|---|---|
| `model.py` | the city's state from messages (no I/O); malformed ones rejected and counted |
| `guidance.py` | what a parking sign shows (free count, FULL, CLOSED, unknown) |
| `store.py` | history in SQLite: events (ATSPM CSV), alarms, parking, duplicates |
| `hub.py` | model + store + live listeners + signs, fed one message at a time |
| `auth.py`, `desk.py` | the command path (off by default): operators file, login, commands to a cabinet, audit |
| `mqtt.py`, `web.py` | the edges: the broker (aiomqtt) and HTTP (Starlette, uvicorn) |
| `service.py`, `commands.py` | running it; the `city` subcommand (a plugin of `smartcross`) |

The layering (pyproject.toml, import-linter): the city never imports the cabinet's safety
code (timing core, policies, runtime, provisioning, monitor, firmware), and the cabinet
software never imports the city.
"""
