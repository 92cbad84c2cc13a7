"""Waiting on a condition in tests that watch a real process (a broker, the city service):
poll until the predicate returns something true, or fail naming what never came."""

import time


def wait_for(predicate, timeout_s: float, what: str):
    """predicate()'s first true value, polled every 50 ms; AssertionError after timeout_s."""
    end = time.monotonic() + timeout_s
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.05)
