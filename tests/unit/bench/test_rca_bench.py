from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from healops.bench import rca

SERVICES = ["cart", "db", "frontend"]


def write_case(root: Path, name: str, slow_service: str, rows: int = 40, onset: int = 30) -> None:
    """A case in the shared rca layout: pods with Istio latency and cAdvisor CPU; ``slow_service`` slows at onset."""
    rng = random.Random(name)
    folder = root / "cases" / name
    folder.mkdir(parents=True)
    header = ["timestamp"] + [f"{s}.{m}" for s in SERVICES for m in ("PodServerLatencyP99(s)", "CpuUsageRate(%)")]
    lines = [",".join(header)]
    for i in range(rows):
        row = [str(1_600_000_000 + 60 * i)]
        for service in SERVICES:
            factor = 5.0 if service == slow_service and i >= onset else 1.0
            row += [repr(0.05 * rng.uniform(0.95, 1.05) * factor), repr(20 * rng.uniform(0.95, 1.05))]
        lines.append(",".join(row))
    (folder / "metrics.csv").write_text("\n".join(lines) + "\n")
    # only what the ranking may read, and the label it is scored against: no fault time or type
    meta = {"services": SERVICES, "call_graph": [["frontend", "cart"], ["cart", "db"]], "root_cause_service": "db"}
    (folder / "case.json").write_text(json.dumps(meta))


def test_bench_ranks_every_candidate_of_every_case_and_prints_accuracy_per_system(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_case(tmp_path / "rca", "ob-1", "db")
    write_case(tmp_path / "rca", "ob-2", "db", onset=20)
    write_case(tmp_path / "rca", "shop-1", "cart")  # labelled db: ranked wrong
    assert rca.main(["--data", str(tmp_path / "rca"), "--out", str(tmp_path / "out"), "--cv"]) == 0
    lines = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert [line["case"] for line in lines] == ["ob-1", "ob-2", "shop-1"]
    assert all(sorted(line["ranking"]) == SERVICES for line in lines)
    assert [line["ranking"][0] for line in lines] == ["db", "db", "cart"]
    out = capsys.readouterr().out
    assert re.search(r"ob\s+│\s+2\s+│\s+1\.000\s+│\s+1\.000\s+│\s+1\.000\s+│\s+1\.000", out)
    assert re.search(r"shop\s+│\s+1\s+│\s+0\.000", out)
    assert "leave-one-system-out: ob held out" in out


def test_accuracy_follows_the_ac_at_k_definitions() -> None:
    figures = rca.accuracy([["a", "b", "c"], ["b", "c", "a"], ["c", "b", "a"]], ["a", "a", "b"])
    assert figures["AC@1"] == pytest.approx(1 / 3) and figures["AC@3"] == pytest.approx(1.0)
    assert figures["Avg@5"] == pytest.approx((1 / 3 + 2 / 3 + 1 + 1 + 1) / 5)


def test_a_directory_without_cases_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"cases/<system>-<id>/metrics\.csv"):
        rca.main(["--data", str(tmp_path), "--out", str(tmp_path / "out")])


def test_a_short_case_without_a_normal_period_learns_its_first_half_and_ranks_what_moved_after(
    tmp_path: Path,
) -> None:
    write_case(tmp_path / "rca", "shop-1", "frontend", rows=8, onset=5)
    [case] = rca.load_cases(tmp_path / "rca")
    rankings = rca.rank_cases([case], ["strongest"])
    assert rankings["strongest"]["shop-1"][0] == "frontend"  # graph order alone would put db first
