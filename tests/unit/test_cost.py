"""The cost model: list prices times what the stack does, per watched service-month."""

from __future__ import annotations

import json

import pytest

from healops.cli import main
from healops.cost import Prices, Workload, estimate
from healops.detection.schedule import DEFAULT_READ_EVERY_TICKS


def line(result, item: str):
    [found] = [entry for entry in result.lines if entry.item == item]
    return found


def test_the_detectors_metric_reads_are_8_metrics_a_service_every_minute_at_a_cent_per_thousand():
    result = estimate(Workload(services=1_000, read_every_ticks=1))
    reads = line(result, "GetMetricData (detector)")
    assert reads.quantity == 8 * 1_000 * 43_200
    assert reads.per_service_month_usd == pytest.approx(3.456)


def test_reading_every_tenth_minute_the_bill_is_under_half_a_dollar():
    deployed, every_minute = estimate(Workload(services=1_000, read_every_ticks=10)), estimate(Workload(services=1_000))
    assert Workload().read_every_ticks == DEFAULT_READ_EVERY_TICKS == 1
    assert line(deployed, "GetMetricData (detector)").quantity == 8 * 1_000 * 4_320
    assert line(deployed, "GetMetricData (detector)").per_service_month_usd == pytest.approx(0.3456)
    # the detector is still invoked every tick (most return at once): the requests stay, the state reads do not
    assert line(deployed, "Lambda requests (detector)").quantity == 43_200
    assert (
        line(deployed, "DynamoDB detector state").quantity
        == line(every_minute, "DynamoDB detector state").quantity / 10
    )
    assert deployed.per_service_month_usd == pytest.approx(0.4518, abs=1e-4)
    assert every_minute.per_service_month_usd == pytest.approx(3.5890, abs=1e-4)


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
    assert estimate(Workload()).monthly_usd - free_reads.monthly_usd == pytest.approx(3_456.0 + 0.32)


def test_a_fleet_of_no_services_is_refused_with_what_is_accepted():
    with pytest.raises(ValueError, match=r"services \(0\), tick_seconds \(60\) and read_every_ticks \(1\) must be"):
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


def test_healops_cost_refuses_a_read_period_the_detector_does_not_accept(capsys):
    with pytest.raises(SystemExit):
        main(["cost", "--read-every", "16"])
    assert "16 is not accepted: 1 to 15 ticks" in capsys.readouterr().err
