"""A subscriber for tests: every message on a topic filter, in arrival order, with waits
that poll on a generous deadline (never a fixed sleep)."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as mqtt
from polling import wait_for

from controller.config.telemetry import parse_broker


class Collector:
    def __init__(self, url: str, topic: str = "smartcross/#", client_id: str = "test-collector",
                 persistent: bool = True, username: str | None = None,
                 password: str | None = None):
        host, port, _ = parse_broker(url)
        self.topic = topic
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             clean_session=not persistent)
        if username:
            self.c.username_pw_set(username, password)
        self.c.reconnect_delay_set(0.1, 1)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda *a: self.subscribed.set()
        self.c.connect_async(host, port, keepalive=10)
        self.c.loop_start()

    def _on_connect(self, client, userdata, flags, reason, props):
        if not reason.is_failure:
            client.subscribe(self.topic, qos=1)

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()

    def json(self, suffix: str = "") -> list[tuple[str, dict]]:
        """Decoded JSON messages whose topic ends with `suffix`, in arrival order."""
        with self.lock:
            msgs = list(self.messages)
        out = []
        for topic, payload, _ in msgs:
            if topic.endswith(suffix) and payload.startswith(b"{"):
                out.append((topic, json.loads(payload)))
        return out

    def text(self, topic: str) -> list[str]:
        with self.lock:
            return [p.decode() for t, p, _ in self.messages if t == topic]

    def wait_for(self, predicate, timeout_s: float, what: str):
        return wait_for(predicate, timeout_s, what)
