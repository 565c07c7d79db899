"""PNG plots of ``healops bench chaos`` (matplotlib, no display): a timeline per scenario and the MTTD / MTTR
distributions. Small figures (about 40 KB each): they go into reports and, a few, into docs/img/."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server or in CI
import matplotlib.pyplot as plt

from healops.bench.chaos_scoring import METRIC, Opened, ScenarioResult, Tried

VERDICT_COLOURS = {"recovered": "tab:green", "not_recovered": "tab:red"}


def file_name(scenario: str) -> str:
    return re.sub(r"[^a-z0-9_.-]+", "_", scenario.lower()) + ".png"


def plot_timeline(
    folder: Path,
    scenario: str,
    samples: dict[str, list[tuple[float, float]]],
    result: ScenarioResult,
    incidents: Sequence[Opened],
    attempts: Sequence[Tried],
    tick_s: float,
) -> Path | None:
    """The metric that showed each fault (the fleet's telemetry), from the injection: when the incident opened,
    each action (green: verified recovered, red: not), when the fault ended. Ticks on the x axis."""
    series = {s: v for s, v in samples.items() if v}
    if not series:
        return None
    t0 = min(v[0][0] for v in series.values())
    fig, ax = plt.subplots(figsize=(6.4, 2.6), dpi=80)
    for service, values in series.items():
        ax.plot([(t - t0) / tick_s for t, _ in values], [v for _, v in values], label=service, linewidth=1.4)
    mine = [i for i in incidents if i.incident_id in result.incidents]
    for i in mine:
        ax.axvline((i.opened_at - t0) / tick_s, color="tab:orange", linestyle="--", linewidth=1)
    for a in attempts:
        if a.incident_id in result.incidents:
            x = ((a.ended_at or a.started_at) - t0) / tick_s
            ax.axvline(x, color=VERDICT_COLOURS.get(a.verification, "tab:gray"), linewidth=1)
            ax.annotate(a.action, (x, 1.0), xycoords=("data", "axes fraction"), fontsize=7, rotation=90, va="top")
    verdict = "fixed" if result.fixed_verified else ("detected" if result.detected else "missed")
    ax.set_title(f"{scenario} ({verdict}; dashed: incident opened)", fontsize=9)
    ax.set_xlabel("ticks since the injection (1 tick = 60 simulated s)", fontsize=8)
    ax.set_ylabel(_metric_label(result.faults), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path = folder / file_name(scenario)
    fig.savefig(path)
    plt.close(fig)
    return path


def _metric_label(faults: Sequence[str]) -> str:
    metrics = sorted({METRIC[f] for f in faults})
    units = {"LatencyP99": " (ms)", "Heartbeat": " (1 up, 0 down)"}
    return ", ".join(m + units.get(m, " (%)") for m in metrics)


def plot_distributions(path: Path, mttd: Sequence[float], mttr: Sequence[float]) -> Path:
    """Histograms of time to detect and time to recover, in ticks."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(6.4, 2.4), dpi=80)
    for ax, values, title in ((left, mttd, "time to detect"), (right, mttr, "time to recover (opened -> verified)")):
        if values:
            ax.hist(values, bins=min(20, max(5, len(values))), color="tab:blue")
        ax.set_title(f"{title}, n={len(values)}", fontsize=9)
        ax.set_xlabel("ticks", fontsize=8)
        ax.set_ylabel("scenarios", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_ttr_per_fault(path: Path, scenarios: Sequence[dict[str, object]]) -> Path:
    """Time to detect and to recover per fault type, from a chaos report's scenarios (one fault each)."""
    by_fault: dict[str, tuple[list[float], list[float]]] = {}
    for s in scenarios:
        faults = s.get("faults") or []
        if s.get("condition") or not isinstance(faults, list) or len(faults) != 1:
            continue
        ttd, ttr = by_fault.setdefault(str(faults[0]), ([], []))
        if isinstance(s.get("ttd_ticks"), int | float):
            ttd.append(float(s["ttd_ticks"]))  # type: ignore[arg-type]
        if isinstance(s.get("ttr_ticks"), int | float):
            ttr.append(float(s["ttr_ticks"]))  # type: ignore[arg-type]
    names = sorted(by_fault)
    fig, ax = plt.subplots(figsize=(6.4, 2.8), dpi=80)
    for offset, index, label in ((-0.2, 0, "time to detect"), (0.2, 1, "time to recover")):
        xs = [i + offset for i, n in enumerate(names) for _ in by_fault[n][index]]
        ys = [v for n in names for v in by_fault[n][index]]
        ax.scatter(xs, ys, s=18, label=label)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("ticks", fontsize=8)
    ax.set_title("chaos bench: per fault type (each dot a scenario)", fontsize=9)
    ax.legend(fontsize=7)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_nab_scoreboard(path: Path, ours: dict[str, dict[str, float]], scoreboard: dict[str, dict[str, float]]) -> Path:
    """NAB's three profiles: ``ours`` (label -> profile -> score) beside the published detectors."""
    profiles = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
    rows = {**{k: v for k, v in scoreboard.items() if k not in ("null", "perfect")}, **ours}
    names = sorted(rows, key=lambda n: rows[n].get("standard", 0.0))
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=80)
    height = 0.27
    for k, profile in enumerate(profiles):
        ax.barh(
            [i + (k - 1) * height for i in range(len(names))],
            [rows[n].get(profile, 0.0) for n in names],
            height=height,
            label=profile,
        )
    ax.set_yticks(range(len(names)), names, fontsize=7)
    for label in ax.get_yticklabels():
        if label.get_text() in ours:
            label.set_fontweight("bold")
    ax.set_xlabel("NAB score (0: never fires, 100: perfect)", fontsize=8)
    ax.set_title("NAB: ours (51 shared series, bold) and the published scoreboard", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
