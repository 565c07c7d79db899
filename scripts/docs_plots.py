"""The results page's plots (docs/img/): ``python scripts/docs_plots.py --nab LABEL=STD,LOWFP,LOWFN ... --chaos
reports/chaos/<time>``.

``--nab``: our NAB scores as the latest ``healops bench nab`` printed them (one per label: the default block phase,
the mean of four phases), drawn beside the published scoreboard in ``../shared/nab/scoreboard.json``.
``--chaos``: a ``healops bench chaos`` report folder: its per-fault plot, its distributions and the timelines named
by ``--timeline`` are copied next to the NAB plot.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from healops import paths
from healops.bench.chaos_plots import file_name, plot_nab_scoreboard

IMG = paths.PROJECT_ROOT / "docs" / "img"
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def nab_scores(text: str) -> tuple[str, dict[str, float]]:
    label, _, values = text.partition("=")
    scores = [float(v) for v in values.split(",")]
    if not label or len(scores) != 3:
        raise argparse.ArgumentTypeError(
            f"{text!r}: accepted is LABEL=STANDARD,LOW_FP,LOW_FN, e.g. ours=75.5,70.8,78.8"
        )
    return label, dict(zip(PROFILES, scores, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nab", type=nab_scores, action="append", default=[], help="LABEL=STANDARD,LOW_FP,LOW_FN")
    parser.add_argument(
        "--scoreboard", type=Path, default=paths.PROJECT_ROOT.parent / "shared" / "nab" / "scoreboard.json"
    )
    parser.add_argument("--chaos", type=Path, help="a reports/chaos/<time> folder")
    parser.add_argument("--timeline", action="append", default=[], help="a scenario whose timeline to copy")
    args = parser.parse_args(argv)
    IMG.mkdir(parents=True, exist_ok=True)
    if args.nab:
        scoreboard = json.loads(args.scoreboard.read_text())
        print(plot_nab_scoreboard(IMG / "nab-scoreboard.png", dict(args.nab), scoreboard))
    if args.chaos:
        plots = args.chaos / "plots"
        for source, target in (("per_fault.png", "chaos-per-fault.png"), ("mttd_mttr.png", "chaos-mttd-mttr.png")):
            print(shutil.copyfile(plots / source, IMG / target))
        for scenario in args.timeline:
            print(shutil.copyfile(plots / file_name(scenario), IMG / f"chaos-{file_name(scenario)}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
