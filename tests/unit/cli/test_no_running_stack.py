"""Every command facing a stack that is not running says so in one line, and cleans up what a dead run left."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from healops.cli import main
from healops.cli.target import ENDPOINT_HINT
from healops.deploy.processes import dashboard_process, server_process
from healops.deploy.stack import clear_stale, move_state_aside
from healops.local.server import free_port


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HEALOPS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # else the commands would try that endpoint
    return tmp_path


@pytest.fixture
def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def leave_a_dead_run(state_dir: Path, dead_pid: int) -> None:
    """What `healops up` leaves when its server is SIGKILLed: pid file and stack.json naming a dead cloud."""
    server_process(state_dir).pid_file.write_text(str(dead_pid))
    endpoint = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    stack = {"endpoint_url": endpoint, "server_pid": dead_pid, "time_scale": 1.0, "outputs": {}, "timings": {}}
    (state_dir / "stack.json").write_text(json.dumps(stack))


@pytest.mark.parametrize(
    "command", [["status"], ["inject", "--list"], ["inject", "--status"], ["inject", "checkout", "error_storm"]]
)
@pytest.mark.parametrize("left", ["nothing", "a dead run"])
def test_a_command_facing_no_running_stack_says_so_in_one_line(
    command: list[str], left: str, state_dir: Path, dead_pid: int, capsys: pytest.CaptureFixture[str]
) -> None:
    if left == "a dead run":
        leave_a_dead_run(state_dir, dead_pid)
    assert main(command) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f"error: no Heal-Ops stack is running (state directory {state_dir}): start it with `healops up`, "
        f"or give the endpoint of one ({ENDPOINT_HINT})"
    ]
    assert "Traceback" not in captured.out
    assert not (state_dir / "stack.json").exists() and not server_process(state_dir).pid_file.exists()


def test_down_with_nothing_running_says_so(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["down"]) == 0
    assert capsys.readouterr().out.strip() == "nothing was running"


@pytest.fixture
def orphaned_dashboard(state_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "healops.dashboard"])
    dashboard_process(state_dir).pid_file.write_text(str(proc.pid))
    yield proc
    proc.kill()
    proc.wait()


def test_a_dead_runs_leftovers_are_cleared_and_its_orphaned_dashboard_stopped(
    state_dir: Path, dead_pid: int, orphaned_dashboard: subprocess.Popen[bytes]
) -> None:
    leave_a_dead_run(state_dir, dead_pid)
    cleaned = clear_stale(state_dir)
    assert cleaned == [
        "removed the stale server.pid",
        "stopped a dashboard whose embedded cloud had gone",
        "removed the stale stack.json",
    ]
    assert orphaned_dashboard.wait(5) is not None
    assert list(state_dir.iterdir()) == []
    assert clear_stale(state_dir) == []


def test_a_running_cloud_of_ours_is_left_alone(state_dir: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "healops.local"])
    try:
        server_process(state_dir).pid_file.write_text(str(proc.pid))
        (state_dir / "stack.json").write_text("{}")
        assert clear_stale(state_dir) == []
        assert proc.poll() is None and (state_dir / "stack.json").exists()
    finally:
        proc.kill()
        proc.wait()


def test_fresh_moves_the_kept_state_aside_and_deletes_nothing(state_dir: Path) -> None:
    (state_dir / "state").mkdir()
    (state_dir / "state" / "snapshot.bin").write_bytes(b"kept")
    (state_dir / "terraform").mkdir()
    (state_dir / "terraform" / "terraform.tfstate").write_text("{}")
    (state_dir / "terraform" / "main.tf").write_text("")
    aside = move_state_aside(state_dir)
    assert aside is not None and aside.parent == state_dir / "aside"
    assert (aside / "state" / "snapshot.bin").read_bytes() == b"kept" and (aside / "terraform.tfstate").exists()
    assert not (state_dir / "state").exists() and not (state_dir / "terraform" / "terraform.tfstate").exists()
    assert (state_dir / "terraform" / "main.tf").exists()
    assert move_state_aside(state_dir) is None


def test_a_negative_snapshot_interval_is_refused_before_anything_starts(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["up", "--detach", "--snapshot-every", "-1"]) == 1
    assert "--snapshot-every must be 0 (only at stop) or positive seconds, got -1" in capsys.readouterr().err
    assert server_process(state_dir).running() is None
