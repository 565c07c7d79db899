"""Settings from the environment: typed as they are read, a bad value named with what is accepted."""

from __future__ import annotations

import pytest

from healops import config
from healops.detection.schedule import DEFAULT_READ_EVERY_TICKS
from healops.fleet.clock import SimClock


def test_the_detector_reads_a_hundred_log_groups_a_run_unless_told_otherwise() -> None:
    assert config.load({}).detector_log_reads_per_run == 100
    assert config.load({"HEALOPS_DETECTOR_LOG_READS_PER_RUN": "250"}).detector_log_reads_per_run == 250


def test_the_detector_reads_the_metrics_every_tick_unless_told_otherwise() -> None:
    assert config.load({}).detector_read_every_ticks == DEFAULT_READ_EVERY_TICKS == 1
    assert config.load({"HEALOPS_DETECTOR_READ_EVERY_TICKS": "10"}).detector_read_every_ticks == 10
    with pytest.raises(config.InvalidSettingError, match="HEALOPS_DETECTOR_READ_EVERY_TICKS must be a whole number"):
        config.load({"HEALOPS_DETECTOR_READ_EVERY_TICKS": "16"})


@pytest.mark.parametrize("raw", ["0", "-3", "ten", "2.5"])
def test_a_bad_whole_number_setting_names_its_variable_and_what_is_accepted(raw: str) -> None:
    with pytest.raises(
        config.InvalidSettingError,
        match=f"HEALOPS_DETECTOR_LOG_READS_PER_RUN must be a whole number >= 1, got '{raw}'",
    ):
        config.load({"HEALOPS_DETECTOR_LOG_READS_PER_RUN": raw})


@pytest.mark.parametrize(
    ("variable", "raw", "accepted"),
    [
        ("HEALOPS_TICK_SECONDS", "0", "a number of seconds > 0"),
        ("HEALOPS_FLEET_TIME_SCALE", "fast", "a number > 0"),
        ("HEALOPS_FLEET_SEED", "1.5", "a whole number"),
        ("HEALOPS_FLEET_SIZE", "0", "a whole number >= 1"),
        ("HEALOPS_REMEDIATION_EXECUTION_TIMEOUT_S", "-1", "a number of seconds > 0"),
    ],
)
def test_every_numeric_setting_refuses_what_it_cannot_use(variable: str, raw: str, accepted: str) -> None:
    with pytest.raises(config.InvalidSettingError, match=f"{variable} must be {accepted}, got '{raw}'"):
        config.load({variable: raw})


def test_numbers_are_read_as_numbers_with_terraforms_defaults() -> None:
    defaults = config.load({})
    assert (defaults.tick_seconds, defaults.fleet_time_scale, defaults.fleet_seed, defaults.fleet_size) == (
        60.0,
        1.0,
        1,
        8,
    )
    assert defaults.remediation_execution_timeout_s == 86400.0
    settings = config.load(
        {"HEALOPS_FLEET_SEED": "7", "HEALOPS_FLEET_SIZE": "48", "HEALOPS_REMEDIATION_EXECUTION_TIMEOUT_S": "900"}
    )
    assert (settings.fleet_seed, settings.fleet_size, settings.remediation_execution_timeout_s) == (7, 48, 900.0)


def test_the_fleet_clock_is_built_from_the_tick_and_the_time_scale() -> None:
    settings = config.load({"HEALOPS_TICK_SECONDS": "300", "HEALOPS_FLEET_TIME_SCALE": "60"})
    assert settings.clock() == SimClock(tick_seconds=300.0, time_scale=60.0)
    assert config.load({}).clock() == SimClock()


def test_an_empty_value_counts_as_unset_and_a_required_one_is_named() -> None:
    settings = config.load({"HEALOPS_TICK_SECONDS": "", "HEALOPS_INCIDENTS_TABLE": ""})
    assert settings.tick_seconds == 60.0
    with pytest.raises(config.MissingSettingError, match="HEALOPS_INCIDENTS_TABLE is not set"):
        settings.require("incidents_table")
