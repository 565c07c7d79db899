from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest

from healops.bench import nab


def make_corpus(root: Path) -> None:
    (root / "data" / "demo").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "config").mkdir()
    rows = ["timestamp,value"]
    for i in range(400):
        value = 10 + math.sin(i / 5) + (50 if 300 <= i < 310 else 0)
        rows.append(f"2020-01-01 {i // 60:02d}:{i % 60:02d}:00,{value}")
    (root / "data" / "demo" / "one.csv").write_text("\n".join(rows) + "\n")
    windows = {"demo/one.csv": [["2020-01-01 04:50:00.000000", "2020-01-01 05:10:00.000000"]]}
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    profile = {"CostMatrix": {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 1.0, "tnWeight": 1.0}}
    (root / "config" / "profiles.json").write_text(json.dumps({"standard": profile}))


def test_bench_writes_nab_layout_and_prints_scores_last(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_corpus(tmp_path / "nab")
    assert nab.main(["--data", str(tmp_path / "nab"), "--out", str(tmp_path / "out")]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"standard=-?\d+\.\d", last)
    with (tmp_path / "out" / "healops" / "demo" / "healops_one.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "label"]
    assert len(rows) == 400
    assert [i for i, r in enumerate(rows) if r["label"] == "1"] == list(range(290, 311))


def test_bench_refuses_a_directory_not_in_nab_layout(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="NAB's layout"):
        nab.main(["--data", str(tmp_path), "--out", str(tmp_path / "out")])
