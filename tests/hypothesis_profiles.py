"""Hypothesis settings for property tests: deterministic and bounded in CI, deeper on demand.

CI (the default) derandomizes (a fixed seed derived from each test), runs a bounded number of
examples, keeps no example database and has no per-example deadline (the machines are shared
and slow; tests never assert on wall-clock time). A developer hunting bugs runs:

    RELKIT_HYPOTHESIS_PROFILE=deep .venv/bin/pytest tests/unit/test_conventional_properties.py

which runs 20 times the examples with a random seed and keeps failures in `.hypothesis/` so
the next run replays them first.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE", "property_settings"]

PROFILE = os.environ.get("RELKIT_HYPOTHESIS_PROFILE", "ci")
_PROFILES = ("ci", "deep")
if PROFILE not in _PROFILES:
    raise ValueError(f"RELKIT_HYPOTHESIS_PROFILE={PROFILE!r}: expected one of {_PROFILES}")

# Big generated inputs (very long lines) are the point, not a problem.
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]


def property_settings(max_examples: int) -> settings:
    """Settings for one property: `max_examples` in CI, 20 times that (random) when deep."""
    if PROFILE == "deep":
        return settings(
            max_examples=max_examples * 20,
            deadline=None,
            suppress_health_check=_SLOW_IS_FINE,
        )
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=_SLOW_IS_FINE,
    )
