"""The broker is not an open door: the ACL shipped in docs/TELEMETRY.md on a real
Mosquitto with a password file; the cabinet's publisher with its credentials file."""

from __future__ import annotations

import asyncio
import re

import paho.mqtt.client as mqtt
import pytest

from controller.config.telemetry import parse_broker, telemetry_config
from controller.runtime.publisher import Publisher
from controller.runtime.record import Record
from hil.broker import Mosquitto, missing

from mqtt_collect import Collector
from sc_paths import ROOT

USERS = {"abay": "abay-secret", "city": "city-secret", "signs": "signs-secret"}


def shipped_acl() -> str:
    doc = (ROOT / "docs" / "TELEMETRY.md").read_text()
    block = re.search(r"```\n(# /etc/mosquitto/acl.*?)```", doc, re.S)
    assert block, "docs/TELEMETRY.md has no ACL block"
    return block.group(1)


@pytest.fixture
def broker():
    why = missing()
    if why:
        pytest.skip(why)
    b = Mosquitto(users=USERS, acl=shipped_acl()).start()
    yield b
    b.stop()


def publish_through_the_cabinet(tmp_path, broker, password: str, topics: list[str],
                                until) -> Publisher:
    """The real publisher, its credentials from a file, sends `topics` from its outbox."""
    creds = tmp_path / f"cred-{password}"
    creds.write_text(f"abay:{password}\n")
    cfg = telemetry_config(str(tmp_path / "abay.toml"), broker.url, group="abay",
                           credentials=str(creds))
    rec = Record(tmp_path / f"record-{password}.sqlite")
    for k, t in enumerate(topics):
        rec.outbox(float(k), t, {"ts": float(k)}, 1, False)
    rec.flush()

    async def main() -> Publisher:
        pub = Publisher(cfg, rec)
        pub.start()
        end = asyncio.get_running_loop().time() + 60
        while not until(pub) and asyncio.get_running_loop().time() < end:
            await asyncio.sleep(0.05)
        await pub.close()
        return pub

    pub = asyncio.run(main())
    rec.close()
    return pub


def test_a_cabinet_publishes_only_under_its_own_group(tmp_path, broker):
    city = Collector(broker.url, client_id="city-1", username="city", password="city-secret")
    city.wait_for(city.subscribed.is_set, 30, "the city subscribed")
    pub = publish_through_the_cabinet(
        tmp_path, broker, "abay-secret",
        ["smartcross/other/intersection/x/state", "smartcross/signs/abay.p",
         "smartcross/city/command/other", "smartcross/abay/intersection/a1/state"],
        until=lambda p: p.record.outbox_len == 0)
    # Mosquitto 2.0 drops the connection of a client whose publish the ACL denies (after
    # acknowledging it): the cabinet reconnects and goes on with the next message
    assert pub.connects >= 1 and pub.record.outbox_len == 0
    city.wait_for(lambda: city.json("smartcross/abay/intersection/a1/state"), 30,
                  "the cabinet's own topic")
    city.wait_for(lambda: "offline" in city.text("smartcross/abay/status"), 30, "offline")
    topics = {t for t, _ in city.json()}
    assert "smartcross/other/intersection/x/state" not in topics      # outside its group
    assert "smartcross/signs/abay.p" not in topics                    # the city's signs
    assert "smartcross/city/command/other" not in topics    # no cabinet commands another
    city.close()


def test_only_the_city_commands_and_a_cabinet_reads_only_its_own(broker):
    own = Collector(broker.url, topic="smartcross/city/command/abay", client_id="abay-cmd",
                    username="abay", password="abay-secret", persistent=False)
    other = Collector(broker.url, topic="smartcross/city/command/other", client_id="abay-o",
                      username="abay", password="abay-secret", persistent=False)
    for c in (own, other):
        c.wait_for(c.subscribed.is_set, 30, "subscribed")
    host, port, _ = parse_broker(broker.url)
    for user, topic in (("abay", "smartcross/city/command/abay"),       # denied: not the city
                        ("city", "smartcross/city/command/other"),      # not abay's to read
                        ("city", "smartcross/city/command/abay")):      # the one that counts
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{user}")
        c.username_pw_set(user, USERS[user])
        c.connect(host, port)
        c.loop_start()
        c.publish(topic, f"from {user}".encode(), qos=1).wait_for_publish(30)
        c.loop_stop()
        c.disconnect()
    own.wait_for(lambda: own.messages, 30, "the city's command at abay")
    assert [p for _, p, _ in own.messages] == [b"from city"]
    assert other.messages == []
    own.close()
    other.close()


def test_wrong_password_and_anonymous_are_refused(tmp_path, broker):
    pub = publish_through_the_cabinet(tmp_path, broker, "wrong",
                                      ["smartcross/abay/intersection/a1/state"],
                                      until=lambda p: p.last_error is not None)
    assert pub.connects == 0 and not pub.connected
    assert re.search(r"not authori[sz]ed|bad user name or password", pub.last_error, re.I)
    assert pub.record.outbox_len == 1                     # kept for when it is let in
    anon = Collector(broker.url, client_id="anon")
    signs = Collector(broker.url, client_id="sign-1", username="signs",
                      password="signs-secret", topic="smartcross/#")
    signs.wait_for(signs.subscribed.is_set, 30, "the sign subscribed")
    with pytest.raises(AssertionError):
        anon.wait_for(anon.subscribed.is_set, 2, "anonymous subscribed")
    anon.close()
    signs.close()
