"""Settings from the environment: a whole-number setting is checked, and a bad one is named."""

from __future__ import annotations

import pytest

from healops import config


def test_the_detector_reads_a_hundred_log_groups_a_run_unless_told_otherwise() -> None:
    assert config.load({}).positive_int("detector_log_reads_per_run") == 100
    settings = config.load({"HEALOPS_DETECTOR_LOG_READS_PER_RUN": "250"})
    assert settings.positive_int("detector_log_reads_per_run") == 250


@pytest.mark.parametrize("raw", ["0", "-3", "ten", "2.5"])
def test_a_bad_whole_number_setting_names_its_variable_and_what_is_accepted(raw: str) -> None:
    settings = config.load({"HEALOPS_DETECTOR_LOG_READS_PER_RUN": raw})
    with pytest.raises(ValueError, match="HEALOPS_DETECTOR_LOG_READS_PER_RUN must be a whole number >= 1"):
        settings.positive_int("detector_log_reads_per_run")
