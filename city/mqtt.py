"""The central service's MQTT edge: subscribes to every cabinet (`smartcross/+/#`), hands
each message to the hub, publishes the sign messages the hub returns. Reconnects with a
doubling backoff; while the broker is away the API keeps serving the last known state
(the cabinets' status turns `offline` only when the broker says so)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiomqtt

from controller.config.telemetry import parse_broker

from .hub import Hub

log = logging.getLogger("smartcross.city")

SUBSCRIBE = "smartcross/+/#"
BACKOFF_S = 0.5
BACKOFF_MAX_S = 30.0


class CityLink:
    def __init__(self, hub: Hub, broker: str, client_id: str = "smartcross-city",
                 username: str | None = None, password: str | None = None):
        self.hub = hub
        self.host, self.port, self.tls = parse_broker(broker)
        self.broker = broker
        self.client_id = client_id
        self.username, self.password = username, password
        self.connected = asyncio.Event()
        self.last_error: str | None = None

    async def run(self) -> None:
        delay = BACKOFF_S
        while True:
            try:
                async with aiomqtt.Client(
                        self.host, self.port, identifier=self.client_id, keepalive=15,
                        username=self.username, password=self.password,
                        tls_params=aiomqtt.TLSParameters() if self.tls else None) as client:
                    await client.subscribe(SUBSCRIBE, qos=1)
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
                if self.last_error != str(e):
                    log.warning("city: broker %s: %s; reconnecting", self.broker, e)
                self.last_error = str(e)
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
