"""The MQTT edge of the cabinet: sends the record's outbox to the city's broker.

A task of its own beside the 100 ms cycle, which never waits for it: the cycle only
commits messages to the outbox (record.py) and sets `wake`. This task reads them back in
order, at most BATCH at a time, publishes each with QoS 1 and prunes them once the
broker acknowledged them; so what it holds in memory is bounded, and a broker that is
down, slow or refusing only makes the outbox longer. It reconnects with a doubling
backoff (BACKOFF_S, up to BACKOFF_MAX_S). On connecting it sets the retained
`smartcross/<group>/status` to `online`; its last will sets `offline` if the cabinet
disappears, and a clean stop publishes `offline` itself.

With `[telemetry] commands = true` (off by default) the same connection subscribes to
the group's command topic (controller/telemetry/commands.py) and hands each payload to
`on_command` (runtime/remote.py queues it for the cycle); otherwise it subscribes to
nothing, and nothing from the broker reaches the cabinet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable

import aiomqtt

from ..config.model import TelemetryConfig
from ..telemetry import status_topic
from ..telemetry.commands import command_topic
from ..telemetry.connection import explain, tls_context
from .record import Record

log = logging.getLogger("smartcross.telemetry")

BATCH = 200
BACKOFF_S = 0.5
BACKOFF_MAX_S = 30.0
PUBLISH_TIMEOUT_S = 10.0
IDLE_S = 1.0                 # look at the outbox at least this often
CLOSE_DRAIN_S = 3.0          # a clean stop sends what it can in this long, then `offline`


class CredentialsError(Exception):
    """The credentials or CA file cannot be used: a message for the user."""


def read_credentials(path: str | None) -> tuple[str | None, str | None]:
    """The file's first line, `username:password`; (None, None) without a file."""
    if path is None:
        return None, None
    try:
        line = open(path, encoding="utf-8").readline().rstrip("\r\n")
    except OSError as e:
        raise CredentialsError(f"telemetry credentials {path}: {e.strerror or e}") from None
    user, sep, password = line.partition(":")
    if not sep or not user:
        raise CredentialsError(f"telemetry credentials {path}: the first line must be "
                               "username:password")
    return user, password


def check_files(cfg: TelemetryConfig) -> tuple[str | None, str | None, ssl.SSLContext | None]:
    """Username, password and TLS context; CredentialsError names a file that is wrong."""
    user, password = read_credentials(cfg.credentials)
    tls = None
    if cfg.tls:
        try:
            tls = tls_context(cfg.tls_ca)
        except ValueError as e:
            raise CredentialsError(f"telemetry tls_ca {e}") from None
    return user, password, tls


def client_for(cfg: TelemetryConfig, will: bool = True) -> aiomqtt.Client:
    """An aiomqtt client (call it inside the running event loop)."""
    user, password, tls = check_files(cfg)
    return aiomqtt.Client(
        cfg.host, cfg.port, identifier=cfg.client_id, username=user, password=password,
        tls_context=tls, keepalive=15, timeout=PUBLISH_TIMEOUT_S,
        will=aiomqtt.Will(status_topic(cfg.group), "offline", qos=1, retain=True)
        if will else None)


class Publisher:
    def __init__(self, cfg: TelemetryConfig, record: Record,
                 on_command: Callable[[bytes], None] | None = None):
        self.cfg = cfg
        self.record = record
        self.on_command = on_command if cfg.commands else None
        self._reader: asyncio.Task | None = None
        self.wake = asyncio.Event()
        self.closing = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.connected = False
        self.sent = 0
        self.connects = 0
        self.last_error: str | None = None
        self.last_sent_seq = 0
        check_files(cfg)                 # bad credentials or CA file: said before the run

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="telemetry")

    def snapshot(self) -> dict:
        return {"broker": self.cfg.broker, "group": self.cfg.group,
                "connected": self.connected, "sent": self.sent, "connects": self.connects,
                "queued": self.record.outbox_len, "dropped": self.record.outbox_dropped(),
                "last_seq_sent": self.last_sent_seq, "last_error": self.last_error}

    async def close(self) -> None:
        """Stop: send what can be sent in CLOSE_DRAIN_S, set `offline`, disconnect."""
        if self.task is None:
            return
        self.closing.set()
        self.wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), CLOSE_DRAIN_S + 2.0)
        except (TimeoutError, asyncio.CancelledError):
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task

    async def _run(self) -> None:
        delay = BACKOFF_S
        while not self.closing.is_set():
            try:
                async with client_for(self.cfg) as client:
                    self.connected, self.last_error = True, None
                    self.connects += 1
                    delay = BACKOFF_S
                    log.info("telemetry: connected to %s", self.cfg.broker)
                    await client.publish(status_topic(self.cfg.group), "online", qos=1,
                                         retain=True)
                    await self._listen(client)
                    try:
                        await self._drain(client)
                    finally:
                        await self._unlisten()
                    await client.publish(status_topic(self.cfg.group), "offline", qos=1,
                                         retain=True, timeout=CLOSE_DRAIN_S)
                    return
            except aiomqtt.MqttError as e:
                why = explain(e, self.cfg.broker, self.cfg.tls_ca)
                if self.connected or self.last_error != why:
                    log.warning("telemetry: %s; messages wait in the outbox", why)
                self.connected, self.last_error = False, why
            if self.closing.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closing.wait(), delay)
            delay = min(delay * 2, BACKOFF_MAX_S)

    async def _listen(self, client: aiomqtt.Client) -> None:
        """Commands on: subscribe to the group's command topic, read it in a task."""
        if self.on_command is None:
            return
        await client.subscribe(command_topic(self.cfg.group), qos=1)
        handler = self.on_command

        async def read() -> None:
            async for msg in client.messages:
                handler(msg.payload if isinstance(msg.payload, bytes)
                        else str(msg.payload).encode())

        self._reader = asyncio.create_task(read(), name="telemetry-commands")
        self._reader.add_done_callback(lambda _: self.wake.set())

    async def _unlisten(self) -> None:
        task, self._reader = self._reader, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _drain(self, client: aiomqtt.Client) -> None:
        """Publish the outbox in order until closing; a clean stop drains for a while."""
        close_by: float | None = None
        while True:
            if self._reader is not None and self._reader.done():
                self._reader.result()         # the connection broke under the reader
                raise aiomqtt.MqttError("the command subscription ended")
            if self.closing.is_set() and close_by is None:
                close_by = time.monotonic() + CLOSE_DRAIN_S
            rows = self.record.outbox_pending(BATCH)
            if not rows or (close_by is not None and time.monotonic() > close_by):
                if self.closing.is_set():
                    return
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), IDLE_S)
                continue
            acked = 0
            try:
                for seq, topic, payload, qos, retain in rows:
                    await client.publish(topic, payload, qos=qos, retain=retain,
                                         timeout=PUBLISH_TIMEOUT_S)
                    acked = self.last_sent_seq = seq
                    self.sent += 1
            finally:                     # what the broker has is pruned, even on an error
                if acked:
                    self.record.outbox_sent(acked)
