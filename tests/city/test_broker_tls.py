"""Cabinets and the city on a Mosquitto TLS listener, with certificates made by the test
(openssl CLI): the cabinet's publisher and the city's link trust the city's CA (tls_ca,
--tls-ca); a broker whose certificate another CA signed, or one that refuses the
credentials, is said in one clear sentence, never a traceback, and nothing is lost."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys

import pytest

from city.hub import Hub
from city.mqtt import CityLink
from controller.config.telemetry import telemetry_config
from controller.runtime.publisher import Publisher
from controller.runtime.record import Record
from hil.broker import Mosquitto, missing

from city_proc import CityProcess
from sc_paths import ROOT

USERS = {"abay": "abay-secret", "city": "city-secret"}
WAIT_S = 60


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(folder, name: str) -> tuple[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    key, pem = folder / f"{name}.key", folder / f"{name}.pem"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(pem), "-days", "2",
            "-subj", f"/CN={name}")
    return str(pem), str(key)


def make_server_cert(folder, ca: tuple[str, str]) -> tuple[str, str]:
    key, csr, pem = folder / "server.key", folder / "server.csr", folder / "server.pem"
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    openssl("x509", "-req", "-in", str(csr), "-CA", ca[0], "-CAkey", ca[1],
            "-CAcreateserial", "-out", str(pem), "-days", "2", "-extfile", str(ext))
    key.chmod(0o644)             # mosquitto reads it as the user it runs as
    return str(pem), str(key)


@pytest.fixture
def pki(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (Debian: apt-get install openssl)")
    city_ca = make_ca(tmp_path / "pki", "city-ca")
    other_ca = make_ca(tmp_path / "pki", "other-ca")
    return {"ca": city_ca[0], "other": other_ca[0],
            "server": make_server_cert(tmp_path / "pki", city_ca)}


@pytest.fixture
def tls_broker(pki):
    why = missing()
    if why:
        pytest.skip(why)
    b = Mosquitto(users=USERS, tls=(pki["ca"], *pki["server"])).start()
    yield b
    b.stop()


def run_publisher(tmp_path, broker, password: str, ca: str, until) -> Publisher:
    """The real publisher over mqtts://, its credentials and CA from files, one message
    in its outbox; stops when `until(publisher)` (or after WAIT_S)."""
    creds = tmp_path / f"cred-{password}"
    creds.write_text(f"abay:{password}\n")
    cfg = telemetry_config(str(tmp_path / "abay.toml"), broker.url, group="abay",
                           credentials=str(creds), tls_ca=ca)
    assert cfg.tls
    rec = Record(tmp_path / f"record-{password}-{abs(hash(ca))}.sqlite")
    rec.outbox(1.0, "smartcross/abay/intersection/a1/state",
               {"ts": 1.0, "mode": "run", "stage": "S1", "aspects": {}}, 1, True)
    rec.flush()

    async def main() -> Publisher:
        pub = Publisher(cfg, rec)
        pub.start()
        loop = asyncio.get_running_loop()
        end = loop.time() + WAIT_S
        while not until(pub) and loop.time() < end:
            await asyncio.sleep(0.05)
        await pub.close()
        return pub

    return asyncio.run(main())


def test_cabinet_and_city_over_tls_with_the_citys_ca(tmp_path, tls_broker, pki):
    hub = Hub(tmp_path / "city")

    async def main() -> None:
        link = CityLink(hub, tls_broker.url, username="city", password="city-secret",
                        tls_ca=pki["ca"])
        async with link.running():
            loop = asyncio.get_running_loop()
            end = loop.time() + WAIT_S
            while not link.connected.is_set():
                assert loop.time() < end, f"the city did not connect: {link.last_error}"
                await asyncio.sleep(0.05)
            pub = await asyncio.to_thread(run_publisher, tmp_path, tls_broker, "abay-secret",
                                          pki["ca"], lambda p: p.record.outbox_len == 0)
            assert pub.connects >= 1 and pub.last_error is None
            while "abay.a1" not in hub.city.intersections:
                assert loop.time() < end, "the cabinet's state did not reach the city"
                await asyncio.sleep(0.05)

    asyncio.run(main())
    assert hub.city.intersections["abay.a1"]["stage"] == "S1"
    hub.store.close()


def test_a_broker_certificate_from_another_ca_is_one_clear_message(tmp_path, tls_broker, pki,
                                                                    caplog):
    caplog.set_level(logging.WARNING, "smartcross.telemetry")
    pub = run_publisher(tmp_path, tls_broker, "abay-secret", pki["other"],
                        lambda p: p.last_error is not None and p.connects == 0
                        and len(caplog.records) >= 1)
    assert pub.connects == 0 and not pub.connected
    assert pub.record.outbox_len == 1                      # kept for when it can connect
    assert "not trusted by the CA" in pub.last_error and pki["other"] in pub.last_error
    said = [r.getMessage() for r in caplog.records if r.name == "smartcross.telemetry"]
    assert len(said) == 1, said                            # once, not at every retry
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)


def test_refused_credentials_over_tls_are_one_clear_message(tmp_path, tls_broker, pki):
    pub = run_publisher(tmp_path, tls_broker, "wrong", pki["ca"],
                        lambda p: p.last_error is not None)
    assert pub.connects == 0 and pub.record.outbox_len == 1
    assert "refused the credentials" in pub.last_error
    # the central service, as a process: a wrong password and a wrong CA, each one line
    for extra, expect in ((["--tls-ca", pki["ca"]], "refused the credentials"),
                          (["--tls-ca", pki["other"]], "not trusted by the CA")):
        creds = tmp_path / "city.pass"
        creds.write_text("city:not-the-password\n")
        city = CityProcess(tls_broker.url, tmp_path / f"city-{len(expect)}",
                           "--credentials", str(creds), *extra)
        city.wait_for(lambda c=city, e=expect: e in c.log.read_text(), WAIT_S, expect)
        assert city.stop() == 0
        log = city.log.read_text()
        assert log.count(expect) == 1, log
        assert "Traceback" not in log


def test_city_tls_ca_that_is_not_a_certificate_is_bad_input(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    r = subprocess.run([sys.executable, "-m", "controller.cli", "city", "--broker",
                        "mqtts://127.0.0.1:8883", "--tls-ca", str(bad), "--data",
                        str(tmp_path / "d")], capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    assert r.returncode == 2, r.stderr
    assert str(bad) in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
