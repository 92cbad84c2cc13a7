# MicroPython, run on the board by `smartcross flash` (controller/tooling/deploy.py) through
# the raw REPL: sent as source, then `_start(WDT_MS, DIRS)`. Short names on purpose: each
# call crosses the serial line. Never imported by CPython.
import binascii
import hashlib
import os
import sys

import machine

_d = None       # the watchdog, taken over from the node: a dying deploy still ends in a reset
_f = None       # the file being written
_DIRS = ()      # the folders whose files the manifest lists


def _start(wdt_ms, dirs):
    global _d, _DIRS
    _d = machine.WDT(timeout=wdt_ms)
    _d.feed()
    _DIRS = dirs


def _info():
    try:
        s = os.statvfs(os.getcwd())
        free = s[0] * s[4]
    except Exception:
        free = -1
    im = sys.implementation
    return (tuple(im.version[:3]), getattr(im, '_mpy', 0), sys.platform,
            getattr(im, '_machine', ''), free)


def _dark():
    try:
        import json
        with open('node.json') as f:
            d = json.load(f)
    except Exception:
        return -1
    lv = 1 if d.get('outputs_active_low') else 0
    n = 0
    for g in d.get('groups', ()):
        for k in ('red', 'amber', 'green'):
            p = g.get(k)
            if isinstance(p, int):
                try:
                    machine.Pin(p, machine.Pin.OUT, value=lv)
                    n += 1
                except Exception:
                    pass
    return n


def _ls(d=''):
    out = []
    for e in (os.ilistdir(d) if d else os.ilistdir()):
        p = d + '/' + e[0] if d else e[0]
        if e[1] & 0x4000:
            if p.split('/')[0] in _DIRS:
                out.extend(_ls(p))
        else:
            out.append((p, os.stat(p)[6]))
    _d.feed()
    return out


def _md(p):
    try:
        os.mkdir(p)
    except OSError:
        pass


def _o(n):
    global _f
    _f = open(n + '.part', 'wb')


def _w(s):
    _f.write(binascii.a2b_base64(s))
    _d.feed()


def _c(n):
    global _f
    _f.close()
    _f = None
    try:
        os.rename(n + '.part', n)
    except OSError:
        os.remove(n)
        os.rename(n + '.part', n)
    _d.feed()


def _rm(n):
    os.remove(n)
    _d.feed()


def _h(n):
    h = hashlib.sha256()
    b = bytearray(1024)
    v = memoryview(b)
    z = 0
    try:
        f = open(n, 'rb')
    except OSError:
        return None
    with f:
        while True:
            k = f.readinto(b)
            if not k:
                break
            h.update(v[:k])
            z += k
    _d.feed()
    return (z, binascii.hexlify(h.digest()).decode())
