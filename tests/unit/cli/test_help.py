"""The CLI's help: plain text, every command and every bench listed, --version."""

from __future__ import annotations

import re

import pytest

from healops import __version__
from healops.cli import BENCHES, main
from healops.cli.text import plain

MARKUP = ("``", ":class:", ":func:", ":mod:")


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_the_top_help_is_plain_text_and_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    shown = help_of(capsys)
    assert not any(mark in shown for mark in MARKUP)
    for command in ("up", "down", "status", "inject", "dashboard", "bench"):
        assert re.search(rf"^    {command}\b", shown, re.M), command
    assert "--version" in shown


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"healops {__version__}\n"


def test_bench_help_lists_every_bench_with_a_one_line_description(capsys: pytest.CaptureFixture[str]) -> None:
    lines = help_of(capsys, "bench").splitlines()
    for name, bench in BENCHES.items():
        assert any(line.split()[:1] == [name] and line.rstrip().endswith(bench.summary) for line in lines), name


@pytest.mark.parametrize("name", sorted(BENCHES))
def test_each_bench_help_is_plain_text_and_offers_json(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    shown = help_of(capsys, "bench", name)
    assert shown.startswith(f"usage: healops bench {name} ")
    assert not any(mark in shown for mark in MARKUP)
    assert "--json" in shown


@pytest.mark.parametrize("command", ["inject", "status"])
def test_inject_and_status_help_offer_json_and_an_endpoint(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    shown = help_of(capsys, command)
    assert not any(mark in shown for mark in MARKUP)
    assert "--json" in shown and "--endpoint-url" in shown


def test_plain_drops_roles_literals_and_emphasis() -> None:
    doc = "Runs :class:`healops.x.Engine` and :func:`~healops.y.step`; ``--every`` ticks, *fixed* or 2 * 3 * 4."
    assert plain(doc) == "Runs healops.x.Engine and step; --every ticks, fixed or 2 * 3 * 4."
