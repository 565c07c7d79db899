"""`healops up` options and what it prints about the dashboard."""

from __future__ import annotations

import argparse

import pytest

from healops.cli import build_parser
from healops.cli.up import parse_dashboard_port, where_to_look
from healops.deploy.errors import DeployError
from healops.deploy.stack import StackInfo


@pytest.mark.parametrize(
    ("given", "port"), [([], 8050), (["--dashboard-port", "0"], 0), (["--dashboard-port", "none"], None)]
)
def test_dashboard_port_option(given: list[str], port: int | None) -> None:
    assert parse_dashboard_port(build_parser().parse_args(["up", *given])) == port


@pytest.mark.parametrize("bad", ["eighty", "-1", "70000"])
def test_a_bad_dashboard_port_is_refused_with_what_is_accepted(bad: str) -> None:
    with pytest.raises(DeployError, match=r"port number .* or 'none'"):
        parse_dashboard_port(argparse.Namespace(dashboard_port=bad))


def test_where_to_look_prints_the_dashboard_url_and_token_file() -> None:
    info = StackInfo("http://127.0.0.1:4566", 1, 1.0, {}, {}, "http://127.0.0.1:8050/", "/s/dashboard.token")
    shown = where_to_look(info)
    assert "dashboard    http://127.0.0.1:8050/" in shown and "/s/dashboard.token" in shown
    assert "not part of this release" not in shown
    assert "not started" in where_to_look(StackInfo("http://127.0.0.1:4566", 1, 1.0, {}, {}))
