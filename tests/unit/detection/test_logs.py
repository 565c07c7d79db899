from __future__ import annotations

import random

from healops.detection.logs import (
    ErrorStormDetector,
    ExceptionSignatureTracker,
    fingerprint,
    normalise_message,
)


def test_messages_differing_only_in_ids_numbers_hex_and_paths_share_a_fingerprint() -> None:
    a = "TimeoutError: upstream 10.0.0.12 took 3000 ms req=3f2a9c1e-1b2c-4d5e-8f90-123456789abc at /srv/app/pay.py"
    b = "TimeoutError: upstream 10.0.3.7 took 12 ms req=00000000-aaaa-4bbb-8ccc-dddddddddddd at /opt/x/y.py"
    assert fingerprint(a) == fingerprint(b)
    assert normalise_message("KeyError 0xdeadbeef in 'cart'") == "KeyError <hex> in <str>"
    assert fingerprint("ValueError: bad amount") != fingerprint("KeyError: bad amount")


def test_new_signature_is_reported_only_after_the_warm_up() -> None:
    tracker = ExceptionSignatureTracker(warmup_lines=3)
    assert tracker.observe("ValueError: x=1") is None
    assert tracker.observe("KeyError: id 42") is None
    assert tracker.observe("ValueError: x=2") is None
    assert tracker.observe("KeyError: id 7") is None  # seen during warm-up
    new = tracker.observe("ZeroDivisionError: division by zero")
    assert new == fingerprint("ZeroDivisionError: division by zero")
    assert tracker.observe("ZeroDivisionError: division by zero") is None
    restored = ExceptionSignatureTracker.from_state(tracker.to_state(), warmup_lines=3)
    assert restored.observe("KeyError: id 9") is None


def test_error_storm_is_flagged_against_the_learned_baseline() -> None:
    rng = random.Random(2)
    detector = ErrorStormDetector()
    verdicts = [detector.update(rng.choice([0, 1, 2, 3, 4])) for _ in range(200)]
    assert not any(v.storm for v in verdicts)
    assert detector.update(60).storm
    assert detector.update(55).storm  # storm ticks are not learned: a long storm stays a storm
    assert not detector.update(4).storm
