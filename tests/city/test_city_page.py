"""The city's web page in a real browser (Debian's chromium, headless, driven by
Playwright; never a browser of Playwright's own): it shows every intersection, alarm and
parking area, and follows the broker live without a reload."""

from __future__ import annotations

import json
import shutil
import time

import paho.mqtt.client as mqtt
import pytest

from controller.config import load
from controller.config.telemetry import parse_broker
from controller.telemetry import Telemetry, intersection_alarms
from hil.broker import Mosquitto, missing
from protocols import aspects as A

from city_proc import CityProcess
from sc_paths import ROOT

pytestmark = pytest.mark.hil
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 60_000


class Cabinet:
    """Publishes what the real telemetry model makes, as a cabinet would."""

    def __init__(self, url: str):
        host, port, _ = parse_broker(url)
        self.tel = Telemetry(load(ROOT / "examples" / "corridor.toml"), "abay")
        self.seq = 0
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="cabinet-abay")
        self.c.connect(host, port)
        self.c.loop_start()

    def send(self, msgs) -> None:
        for m in msgs:
            self.seq += 1
            self.c.publish(m.topic, json.dumps({"seq": self.seq, **m.payload}), qos=1,
                           retain=m.retain).wait_for_publish(30)

    def status(self, text: str) -> None:
        self.c.publish("smartcross/abay/status", text, qos=1, retain=True).wait_for_publish(30)

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; "
                    "`make test` installs it when it runs as root)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def test_the_page_follows_the_city_live(browser, tmp_path):
    why = missing()
    if why:
        pytest.skip(why)
    with Mosquitto() as broker:
        city = CityProcess(broker.url, tmp_path / "city")
        cab = Cabinet(broker.url)
        try:
            cab.status("online")
            run = {"mode": "run", "stage": "S1", "plan": "am"}
            cab.send(cab.tel.info(1.0))
            cab.send(cab.tel.intersection(10.0, "a1", run, {"V1": A.GREEN, "V2": A.RED}, None))
            cab.send(cab.tel.parking(10.0, "abay-south-a2", "South kerb",
                                     {"b1": "free", "b2": "occupied"}))
            city.wait_for(lambda: [a for a in city.get("/api/parking") if a["free"] == 1], 30,
                          "parking at the city")
            page = browser.new_page()
            page.goto(city.base + "/")
            row = 'tr[id="i-abay.a1"]'
            page.wait_for_selector(f'{row} .asp[data-group="V1"][data-aspect="green"]',
                                   timeout=WAIT_MS)
            assert "Abay / Baitursynuly" in page.inner_text(row)
            page.wait_for_selector("#live.on", timeout=WAIT_MS)
            assert page.inner_text('tr[id="p-abay.abay-south-a2"] .sign') == "1 FREE"
            assert page.inner_text("#alarm-count") == "0"

            # live: the next change arrives without a reload
            cab.send(cab.tel.intersection(13.0, "a1", run, {"V1": A.AMBER, "V2": A.RED}, None))
            page.wait_for_selector(f'{row} .asp[data-group="V1"][data-aspect="amber"]',
                                   timeout=WAIT_MS)
            cab.send(cab.tel.parking(14.0, "abay-south-a2", "South kerb",
                                     {"b1": "fault", "b2": "occupied"}))
            page.wait_for_selector('tr[id="p-abay.abay-south-a2"] .sign.full', timeout=WAIT_MS)
            cab.send(cab.tel.alarms(15.0, dict(intersection_alarms(
                "a1", "flash", "node a1-n1: not answering", []))))
            page.wait_for_selector('li.alarm[data-id="flash/a1"]', timeout=WAIT_MS)
            assert page.inner_text("#alarm-count") == "1"
            cab.status("offline")
            page.wait_for_selector('li.alarm[data-id="offline/abay"]', timeout=WAIT_MS)
            page.wait_for_selector('tr[id="p-abay.abay-south-a2"] .sign.unknown',
                                   timeout=WAIT_MS)

            # ATSPM from field data: two cycles of V1 (phase 1) in the last hour
            t = time.time() - 300
            cab.send(cab.tel.events(t + 80, "a1", [
                (t, 1, 1), (t + 20, 8, 1), (t + 23, 10, 1),
                (t + 60, 1, 1), (t + 80, 8, 1), (t + 83, 10, 1)]))
            city.wait_for(lambda: city.get(f"/api/intersections/abay.a1/measures?from={t - 1}"
                                           f"&to={t + 100}")["measures"], 30, "measures")
            page.click('button.atspm[data-id="abay.a1"]')
            page.wait_for_selector('#measures tr[data-phase="V1"]', timeout=WAIT_MS)
            cells = page.inner_text('#measures tr[data-phase="V1"]').split("\t")
            assert cells[1:4] == ["2", "20", "60"]       # cycles, mean green, mean cycle
            page.screenshot(path=str(tmp_path / "city.png"), full_page=True)
        finally:
            cab.close()
            assert city.stop() == 0


def test_an_operator_logs_in_and_sends_a_command_from_the_page(browser, tmp_path):
    why = missing()
    if why:
        pytest.skip(why)
    from city.auth import add_operator

    ops = tmp_path / "operators"
    add_operator(ops, "alice", "operator", "alice-pw")
    with Mosquitto() as broker:
        city = CityProcess(broker.url, tmp_path / "city", "--operators", str(ops))
        cab = Cabinet(broker.url)
        try:
            cab.status("online")
            city.wait_for(lambda: "abay" in city.get("/api/health")["groups"], 30, "abay")
            page = browser.new_page()
            page.goto(city.base + "/")
            page.fill("#login-user", "alice")
            page.fill("#login-password", "wrong")
            page.click("#login button[type=submit]")
            page.wait_for_selector("#login-msg:has-text('wrong user name or password')",
                                   timeout=WAIT_MS)
            assert page.is_hidden("#command")
            page.fill("#login-password", "alice-pw")
            page.click("#login button[type=submit]")
            page.wait_for_selector("#command:not([hidden])", timeout=WAIT_MS)
            assert page.inner_text("#whoami") == "alice (operator)"
            page.fill("#cmd-group", "abay")
            page.fill("#cmd-plan", "night")
            page.click("#command button[type=submit]")
            page.wait_for_selector("#cmd-msg:has-text('sent ')", timeout=WAIT_MS)
            row = page.wait_for_selector("#commands tbody tr", timeout=WAIT_MS)
            cells = row.inner_text().split("\t")
            assert cells[1:6] == ["alice", "abay", "plan", '{"plan":"night"}', "sent"]
            [audited] = city.get("/api/commands")
            assert (audited["by"], audited["args"], audited["sent"]) == \
                ("alice", {"plan": "night"}, "sent")
            page.click("#logout")
            page.wait_for_selector("#login:not([hidden])", timeout=WAIT_MS)
        finally:
            cab.close()
            assert city.stop() == 0
