"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.pulse import PulseBed, PulseBedError


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
