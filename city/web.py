"""The central service's HTTP edge (Starlette): a read-only JSON API, server-sent events
for the live page, and the page itself (city/static: plain HTML and JS, no build step).

| route | what |
|---|---|
| `GET /` | the page |
| `GET /api/intersections` | every intersection: id, name, group, mode, stage, aspects, alarms, updated |
| `GET /api/intersections/{id}` | one of them (404 if unknown) |
| `GET /api/intersections/{id}/events?from=&to=` | its Indiana events, ATSPM CSV as `log export` writes it |
| `GET /api/intersections/{id}/measures?from=&to=&phase=` | ATSPM measures per phase (split monitor, arrivals on green, split failures) and one phase's Purdue coordination diagram points |
| `GET /api/parking` | areas: id, name, free, capacity, updated, state and the sign text |
| `GET /api/signs` | the sign messages (the JSON feed for apps) |
| `GET /api/alarms` | active alarms, and the last raised/cleared ones |
| `GET /api/health` | what the service received, rejected and why |
| `GET /api/stream` | server-sent events: `intersection`, `parking`, `alarms`, `sign` |
| `GET /api/commands` | the command audit: who sent what to which group, when, the answer |
| `POST /api/login`, `/api/logout` | `{"user", "password"}` → a bearer token (city/auth.py) |
| `POST /api/commands` | `{"group", "kind", "args"}` with `Authorization: Bearer <token>` of an operator (city/desk.py) |

Read-only without a login: the only routes that change anything are the command path's
POSTs, which answer 403 unless the service runs with `--operators FILE`, 401 without a
valid login and 403 for a role other than `operator`; every other POST, PUT or DELETE
answers 405. `from` and `to` are local date-times (2026-11-26T07:00) or Unix seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from controller.config.civil import LOCAL, Zone

from .desk import CommandDesk, Refused
from .hub import Hub
from .measures import intersection_measures

STATIC = Path(__file__).resolve().parent / "static"
KEEPALIVE_S = 15.0


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _zone(city, iid: str) -> Zone | None:
    """The intersection's zone as its cabinet announced it (`info`); None: this server's."""
    key = city.groups.get(iid.split(".")[0], {}).get("info", {}).get("timezone")
    try:
        return Zone(key) if key and key != LOCAL else None
    except ValueError:
        return None


def _when(value: str | None, name: str, zone: Zone | None = None) -> float:
    if value is None:
        raise ValueError(f"{name} is required (a local date-time like 2026-11-26T07:00)")
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(value)
        if when.tzinfo is None and zone is not None:      # the intersection's wall clock
            when = zone.attach(when)
        return when.timestamp()
    except ValueError:
        raise ValueError(f"{name}: expected a date-time like 2026-11-26T07:00 or Unix "
                         f"seconds, got {value!r}") from None


def _window(request: Request, city) -> tuple[str, tuple[float, float] | Response]:
    """The intersection id and the from/to window of a request, or the error to answer.
    A date-time without an offset is on the intersection's wall clock, as in its CSV."""
    iid = request.path_params["id"]
    if iid not in city.intersections:
        return iid, _error(404, f"no intersection {iid!r} (ids are GROUP.INTERSECTION)")
    zone = _zone(city, iid)
    try:
        start = _when(request.query_params.get("from"), "from", zone)
        end = _when(request.query_params.get("to"), "to", zone)
    except ValueError as e:
        return iid, _error(400, str(e))
    if end <= start:
        return iid, _error(400, "to must be after from")
    return iid, (start, end)


async def _json_body(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise Refused(400, "the body must be JSON") from None


def command_routes(hub: Hub, desk: CommandDesk | None) -> list[Route]:
    """Login and commands (POST), and the audit (GET, read-only like the rest)."""

    def need_desk() -> CommandDesk:
        if desk is None:
            raise Refused(403, "the command path is off (smartcross city --operators FILE)")
        return desk

    async def login(request: Request) -> Response:
        try:
            d, body = need_desk(), await _json_body(request)
            if not isinstance(body, dict) or not all(isinstance(body.get(k), str)
                                                     for k in ("user", "password")):
                raise Refused(400, "expected {\"user\": ..., \"password\": ...}")
            token = d.sessions.login(body["user"], body["password"])
            if token is None:
                raise Refused(401, "wrong user name or password")
            op = d.sessions.who(token)
            assert op is not None
            return JSONResponse({"token": token, "user": op.name, "role": op.role})
        except Refused as e:
            return _error(e.status, str(e))

    async def logout(request: Request) -> Response:
        if desk is not None:
            desk.sessions.logout(request.headers.get("authorization", "").partition(" ")[2])
        return JSONResponse({"ok": True})

    async def commands(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(hub.store.commands())
        try:
            d = need_desk()
            d.operator(request.headers.get("authorization"))      # 401 before the body
            try:
                body = json.loads(await request.body())
            except ValueError:
                body = None                   # refused (400) and audited by the desk
            row = await d.attempt(request.headers.get("authorization"), body)
            return JSONResponse(row, status_code=202)
        except Refused as e:
            return _error(e.status, str(e))

    return [Route("/api/login", login, methods=["POST"]),
            Route("/api/logout", logout, methods=["POST"]),
            Route("/api/commands", commands, methods=["GET", "POST"])]


def make_app(hub: Hub, lifespan=None, desk: CommandDesk | None = None) -> Starlette:
    city = hub.city

    async def intersections(request: Request) -> Response:
        return JSONResponse([city.intersection_view(i) for i in sorted(city.intersections)])

    async def intersection(request: Request) -> Response:
        iid = request.path_params["id"]
        if iid not in city.intersections:
            return _error(404, f"no intersection {iid!r} (ids are GROUP.INTERSECTION)")
        return JSONResponse(city.intersection_view(iid))

    async def events(request: Request) -> Response:
        iid, window = _window(request, city)
        if isinstance(window, Response):
            return window
        return Response(hub.store.events_csv(iid, *window, zone=_zone(city, iid)),
                        media_type="text/csv")

    async def atspm(request: Request) -> Response:
        iid, window = _window(request, city)
        if isinstance(window, Response):
            return window
        rows = hub.store.event_rows(iid, *window)
        return JSONResponse(intersection_measures(iid, city.intersections[iid], rows,
                                                  request.query_params.get("phase")))

    async def parking(request: Request) -> Response:
        return JSONResponse([city.area_view(a) for a in sorted(city.parking)])

    async def signs(request: Request) -> Response:
        return JSONResponse([hub.signs[s] for s in sorted(hub.signs)])

    async def alarms(request: Request) -> Response:
        return JSONResponse({"active": city.all_alarms(), "log": hub.store.alarm_log()})

    async def health(request: Request) -> Response:
        return JSONResponse(hub.stats())

    async def stream(request: Request) -> Response:
        q = hub.listen()

        async def feed():
            try:
                yield "retry: 1000\n\n"
                while q in hub.listeners:
                    try:
                        kind, data = await asyncio.wait_for(q.get(), KEEPALIVE_S)
                    except TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    yield f"event: {kind}\ndata: {json.dumps(data)}\n\n"
            finally:
                hub.unlisten(q)

        return StreamingResponse(feed(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    routes = [
        Route("/", page),
        Route("/api/intersections", intersections),
        Route("/api/intersections/{id}", intersection),
        Route("/api/intersections/{id}/events", events),
        Route("/api/intersections/{id}/measures", atspm),
        Route("/api/parking", parking),
        Route("/api/signs", signs),
        Route("/api/alarms", alarms),
        Route("/api/health", health),
        Route("/api/stream", stream),
        *command_routes(hub, desk),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
