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


def test_art_phases_prints_each_phase_and_their_mean_before_the_shipped_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_corpus(tmp_path / "nab")
    assert nab.main(["--data", str(tmp_path / "nab"), "--out", str(tmp_path / "out"), "--art-phases", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    phases = [re.fullmatch(r"ART phase (\d): standard=(-?\d+\.\d)", line) for line in lines]
    scores = [float(m.group(2)) for m in phases if m]
    assert [m.group(1) for m in phases if m] == ["0", "1", "2"]
    [mean] = [re.fullmatch(r"mean over 3 ART phases: standard=(-?\d+\.\d)", line) for line in lines if "mean" in line]
    assert mean is not None and abs(float(mean.group(1)) - sum(scores) / 3) <= 0.1  # the mean of unrounded scores
    assert lines[-1] == f"standard={scores[0]:.1f}"  # the shipped detector's, as without the option


@pytest.mark.parametrize("phases", ["0", "5"])
def test_art_phases_out_of_range_is_refused(tmp_path: Path, phases: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        nab.main(["--data", str(tmp_path), "--out", str(tmp_path / "out"), "--art-phases", phases])
    assert "accepted are 1 to 4" in capsys.readouterr().err


def test_bench_refuses_a_directory_not_in_nab_layout(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="NAB's layout"):
        nab.main(["--data", str(tmp_path), "--out", str(tmp_path / "out")])


def test_cv_appends_the_leave_one_category_out_means_to_the_last_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_corpus(tmp_path / "nab")
    data = tmp_path / "nab" / "data"
    (data / "other").mkdir()
    (data / "other" / "two.csv").write_text((data / "demo" / "one.csv").read_text())
    windows = json.loads((tmp_path / "nab" / "labels" / "combined_windows.json").read_text())
    windows["other/two.csv"] = windows["demo/one.csv"]
    (tmp_path / "nab" / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    assert nab.main(["--data", str(tmp_path / "nab"), "--out", str(tmp_path / "out"), "--cv"]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"standard=-?\d+\.\d cv_standard=-?\d+\.\d", out.strip().splitlines()[-1])
    assert re.search(r"shipped setting only \(threshold chosen per fold\): cv_standard=-?\d+\.\d", out)


def test_scorer_level_scores_the_detector_lambdas_level_scorer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_corpus(tmp_path / "nab")
    args = ["--data", str(tmp_path / "nab"), "--out", str(tmp_path / "out"), "--detector", "level"]
    assert nab.main([*args, "--scorer", "level"]) == 0
    assert re.fullmatch(r"standard=-?\d+\.\d", capsys.readouterr().out.strip().splitlines()[-1])
    with (tmp_path / "out" / "level" / "demo" / "level_one.csv").open() as handle:
        scores = [float(row["anomaly_score"]) for row in csv.DictReader(handle)]
    assert max(scores[300:311]) > 0.5  # the jump of 50 over a swing of 2 is far past the signal threshold
    with pytest.raises(SystemExit):
        nab.main([*args, "--scorer", "level", "--art-phases", "2"])
    assert "--art-phases is for the ensemble" in capsys.readouterr().err


def test_scorer_bounded_scores_the_bounded_ensemble_and_reports_its_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_corpus(tmp_path / "nab")
    args = ["--data", str(tmp_path / "nab"), "--out", str(tmp_path / "out"), "--detector", "bounded"]
    assert nab.main([*args, "--scorer", "bounded", "--art-phases", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"standard=-?\d+\.\d", lines[-1])
    [state] = [line for line in lines if line.startswith("state after each series")]
    size = re.search(r"median (\d+\.\d) KB, largest (\d+\.\d) KB; save \d+\.\d\d ms, restore \d+\.\d\d ms", state)
    assert size is not None and 0 < float(size.group(1)) <= float(size.group(2)) < 10
    with (tmp_path / "out" / "bounded" / "demo" / "bounded_one.csv").open() as handle:
        scores = [float(row["anomaly_score"]) for row in csv.DictReader(handle)]
    assert max(scores[300:311]) > 0.9  # the jump of 50 over a swing of 2 breaks the range seen so far
    assert nab.main([*args, "--scorer", "level"]) == 0
    assert not [line for line in capsys.readouterr().out.splitlines() if line.startswith("state after")]
