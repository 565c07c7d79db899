"""The cost model: list prices times what the stack does, per watched service-month."""

from __future__ import annotations

import json

import pytest

from healops.cli import main
from healops.cost import Prices, Workload, estimate


def line(result, item: str):
    [found] = [entry for entry in result.lines if entry.item == item]
    return found


def test_the_detectors_metric_reads_are_8_metrics_a_service_every_minute_at_a_cent_per_thousand():
    result = estimate(Workload(services=1_000))
    reads = line(result, "GetMetricData (detector)")
    assert reads.quantity == 8 * 1_000 * 43_200
    assert reads.per_service_month_usd == pytest.approx(3.456)


def test_a_coarser_tick_divides_the_per_tick_costs_and_leaves_alarms_and_the_key_alone():
    minute, five = estimate(Workload(tick_seconds=60)), estimate(Workload(tick_seconds=300))
    assert line(five, "GetMetricData (detector)").monthly_usd == pytest.approx(
        line(minute, "GetMetricData (detector)").monthly_usd / 5
    )
    for fixed in ("CloudWatch alarms", "KMS key"):
        assert line(five, fixed).monthly_usd == line(minute, fixed).monthly_usd


def test_fixed_costs_spread_over_more_services():
    small, large = estimate(Workload(services=10)), estimate(Workload(services=1_000))
    assert line(small, "KMS key").per_service_month_usd == pytest.approx(0.1)
    assert line(large, "KMS key").per_service_month_usd == pytest.approx(0.001)


def test_the_total_is_the_sum_of_its_lines_at_the_prices_given():
    free_reads = estimate(Workload(), Prices(get_metric_data_per_metric=0.0))
    assert line(free_reads, "GetMetricData (detector)").monthly_usd == 0
    assert free_reads.monthly_usd == pytest.approx(sum(entry.monthly_usd for entry in free_reads.lines))
    assert estimate(Workload()).monthly_usd - free_reads.monthly_usd == pytest.approx(3_456.0)


def test_a_fleet_of_no_services_is_refused_with_what_is_accepted():
    with pytest.raises(ValueError, match=r"services \(0\) and tick_seconds \(60\) must be at least 1"):
        estimate(Workload(services=0))


def test_healops_cost_prints_json_with_the_per_service_month_figure(capsys):
    assert main(["cost", "--services", "1000", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["workload"]["services"] == 1_000
    assert printed["per_service_month_usd"] == pytest.approx(estimate(Workload()).per_service_month_usd, abs=1e-4)
    assert {entry["item"] for entry in printed["lines"]} >= {"GetMetricData (detector)", "CloudWatch alarms"}


def test_healops_cost_refuses_a_count_that_is_not_a_positive_whole_number(capsys):
    with pytest.raises(SystemExit):
        main(["cost", "--services", "0"])
    assert "0 is not accepted: at least 1" in capsys.readouterr().err
