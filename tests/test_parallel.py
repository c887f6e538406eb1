"""The suite's own parallel run (``make test``: pytest-xdist, ``--dist loadgroup``): the tests
that share state outside their temporary folder must reach xdist as one group, or they race
(tests/conftest.py). xdist ignores a group silently when it cannot rename the node id
(pytest-dev/pytest-xdist#1386, pytest 9.2), so these check the id each test runs under."""

from __future__ import annotations

import pytest


def _grouped(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getvalue("loadgroup"))


@pytest.mark.server
def test_a_server_test_runs_in_the_serial_group(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("xdist_group").args == ("serial",)
    if _grouped(request):
        assert request.node.nodeid.endswith("@serial"), request.node.nodeid


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_a_server_parameter_decides_the_group(dialect: str, request: pytest.FixtureRequest) -> None:
    serial = request.node.get_closest_marker("xdist_group") is not None
    assert serial == (dialect == "postgresql")
    if _grouped(request):
        assert request.node.nodeid.endswith("@serial") == serial, request.node.nodeid
