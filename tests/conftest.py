"""Shared test setup: hypothesis profiles and the HIL fixtures."""

import os

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["hil.pytest_plugin"]

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def _own_data_folder(tmp_path_factory):
    """The service's default record folder ($SMARTCROSS_DATA, else ~/.local/state/...) is
    the session's own: what a user, a demo or another run on this machine left there never
    changes what a test sees (a `log export` test saw another run's folder)."""
    old = os.environ.get("SMARTCROSS_DATA")
    os.environ["SMARTCROSS_DATA"] = str(tmp_path_factory.mktemp("smartcross-data"))
    yield
    if old is None:
        os.environ.pop("SMARTCROSS_DATA", None)
    else:
        os.environ["SMARTCROSS_DATA"] = old
