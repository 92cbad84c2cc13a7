"""The central service's MQTT edge: subscribes to every cabinet (`smartcross/+/#`), hands
each message to the hub, publishes the sign messages the hub returns, and the operators'
commands (city/commands_path.py) when asked. Reconnects with a doubling backoff; while
the broker is away the API keeps serving the last known state (the cabinets' status
turns `offline` only when the broker says so).

Its session is persistent (clean_session false, a fixed client id): the broker keeps the
subscription and queues (QoS 1) what the cabinets publish while the city is away — a
broker restart or the city's own — so a cabinet that reconnects and empties its outbox
before the city is back loses nothing. Over `mqtts://` it checks the broker's certificate
against `tls_ca` (default: the system's CAs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiomqtt

from controller.config.telemetry import parse_broker
from controller.telemetry.connection import explain, tls_context

from .hub import Hub

log = logging.getLogger("smartcross.city")

SUBSCRIBE = "smartcross/+/#"
BACKOFF_S = 0.5
BACKOFF_MAX_S = 30.0
PUBLISH_TIMEOUT_S = 10.0


class NotConnected(Exception):
    """The city has no connection to the broker now."""


class CityLink:
    def __init__(self, hub: Hub, broker: str, client_id: str = "smartcross-city",
                 username: str | None = None, password: str | None = None,
                 tls_ca: str | None = None):
        self.hub = hub
        self.host, self.port, self.tls = parse_broker(broker)
        self.broker = broker
        self.client_id = client_id
        self.username, self.password = username, password
        self.tls_ca = tls_ca
        self.tls_context = tls_context(tls_ca) if self.tls else None   # ValueError: bad CA
        self.connected = asyncio.Event()
        self.client: aiomqtt.Client | None = None
        self.last_error: str | None = None

    async def publish(self, topic: str, payload: str) -> None:
        """QoS 1, retained never (commands); NotConnected or aiomqtt.MqttError if not sent."""
        client = self.client
        if client is None or not self.connected.is_set():
            raise NotConnected(f"no connection to the broker {self.broker}"
                               + (f" ({self.last_error})" if self.last_error else ""))
        await client.publish(topic, payload, qos=1, timeout=PUBLISH_TIMEOUT_S)

    async def run(self) -> None:
        delay = BACKOFF_S
        while True:
            try:
                async with aiomqtt.Client(
                        self.host, self.port, identifier=self.client_id, keepalive=15,
                        username=self.username, password=self.password, clean_session=False,
                        tls_context=self.tls_context,
                        timeout=PUBLISH_TIMEOUT_S) as client:
                    await client.subscribe(SUBSCRIBE, qos=1)
                    self.client = client
                    self.connected.set()
                    self.last_error, delay = None, BACKOFF_S
                    log.info("city: subscribed to %s on %s", SUBSCRIBE, self.broker)
                    async for msg in client.messages:
                        payload = msg.payload if isinstance(msg.payload, bytes) else \
                            str(msg.payload).encode()
                        for topic, text in self.hub.receive(msg.topic.value, payload):
                            await client.publish(topic, text, qos=1, retain=True)
            except aiomqtt.MqttError as e:
                self.connected.clear()
                self.client = None
                why = explain(e, self.broker, self.tls_ca)
                if self.last_error != why:
                    log.warning("city: %s; reconnecting", why)
                self.last_error = why
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)

    @contextlib.asynccontextmanager
    async def running(self):
        task = asyncio.create_task(self.run(), name="city-mqtt")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            self.connected.clear()
            self.client = None
