"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.support.pulse import PulseBed, PulseBedError

# Folders whose tests share expensive session fixtures run on one pytest-xdist worker each
# (`--dist loadgroup`), so the fixture is built once per run rather than once per worker.
XDIST_GROUPS = {
    "tests/agent_speech/": "speech-models",  # hibari and PocketSphinx, loaded once
}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        group = next((name for folder, name in XDIST_GROUPS.items() if item.nodeid.startswith(folder)), None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def pulse_bed() -> Iterator[PulseBed]:
    """A private PulseAudio server (virtual mic and speaker) for the whole test session.
    Missing or broken, it fails the tests that need it: it never skips them."""
    bed = PulseBed()
    try:
        bed.start()
    except PulseBedError as exc:
        where = "in CI" if os.environ.get("CI") else "on this machine"
        pytest.fail(f"audio test bed unavailable {where}: {exc}", pytrace=False)
    try:
        yield bed
    finally:
        bed.stop()


# Hypothesis profiles: "suite" for `make test` (the same examples every run, on every xdist
# worker, and no per-example deadline: a loaded machine must not fail a property);
# `--hypothesis-profile=nightly` (or HYPOTHESIS_PROFILE=nightly) runs every property test with
# 10,000 random examples (the frame fuzzing: at least 10,000 frames per dialect).
settings.register_profile("suite", derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "suite")
