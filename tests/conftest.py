"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.support.priority import threads_raised
from tests.support.pulse import PulseBed, PulseBedError

# A suite started where SIGINT is ignored (a background job of a script: POSIX shells ignore
# SIGINT and SIGQUIT there) hands that on to every process it starts, and a `voicecli serve`
# child would never hear the Ctrl+C its test sends (it waits out its deadline and lives on).
# The test run's processes take Ctrl+C as from a terminal, however the run was started.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Folders whose tests share expensive session fixtures run on one pytest-xdist worker each
# (`--dist loadgroup`), so the fixture is built once per run rather than once per worker.
XDIST_GROUPS = {
    "tests/agent_speech/": "speech-models",  # hibari and PocketSphinx, loaded once
}
# The PulseAudio tests run on two workers (two beds, not one per worker), in groups of about
# the same length (by node id prefix; `--durations=60` of a whole run): no more than two of
# these real-time audio runs, each a terminal app with the embedded agent's speech work, share
# the two cores at once (four at once starved each other into chopped speech and held keys
# read as released, one run in two), and the other workers' tests still fill the time.
PULSE_GROUPS = {
    "tests/tui/test_tmux_echo.py": "pulse-1",
    "tests/tui/test_tmux_ptt.py": "pulse-2", "tests/tui/test_tmux_record.py": "pulse-2",
    "tests/tui/test_tmux_voice.py": "pulse-2", "tests/audio/test_pulse.py": "pulse-2",
    "tests/tui/test_tmux_interrupt.py::test_f4_stops_the_spoken_reply[elevenlabs]": "pulse-2",
    "tests/tui/test_tmux_interrupt.py": "pulse-1",
    "tests/audio/test_echo_room.py": "pulse-1", "tests/tui/test_device_picker.py": "pulse-1",
}


def _group(item: pytest.Item) -> str | None:
    group = next((name for folder, name in XDIST_GROUPS.items() if item.nodeid.startswith(folder)), None)
    if group is None and item.get_closest_marker("pulse") is not None:
        group = next((name for prefix, name in PULSE_GROUPS.items() if item.nodeid.startswith(prefix)), "pulse-1")
    return group


# Tests that wait in real time (a terminal, the PulseAudio bed, paced audio end to end) run
# first, so that no worker is left with one of them at the end of the run while the others
# are idle (pytest-xdist hands out the groups first, largest first, then the single tests in
# this order).
LONG_MARKERS = ("tmux", "pulse", "realtime", "slow")
# and these, unmarked, each 7 s or more of waiting (`--durations=60` of a whole run)
LONG_TESTS = (
    "tests/scenario/test_examples.py::", "tests/scenario/test_scenario_run.py::test_a_failing",
    "tests/load/test_locust.py::", "tests/cli/test_smoke.py::test_no_arguments", "tests/cli/test_serve_",
    "tests/cli/test_without_av.py::", "tests/cli/test_llm_brain_e2e.py::",
    "tests/agent/test_load.py::test_a_speaker_waits", "tests/cli/test_smoke_turns.py::",
)


def _runs_long(item: pytest.Item) -> bool:
    return (any(item.get_closest_marker(name) is not None for name in LONG_MARKERS)
            or item.nodeid.startswith(LONG_TESTS))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pulse_bed" in getattr(item, "fixturenames", ()) and item.get_closest_marker("pulse") is None:
            item.add_marker(pytest.mark.pulse)  # what needs the bed is a PulseAudio test, marked or not
        if item.get_closest_marker("xdist_group") is not None:
            continue
        group = _group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    # stable: the order within each part is kept; the PulseAudio tests first and together, so
    # that a run without xdist starts the bed once
    items.sort(key=lambda item: (not _runs_long(item), item.get_closest_marker("pulse") is None))


PACED_FIXTURES = ("paced_agent", "paced_agent_url")  # a local agent speaking in real time


@pytest.fixture(autouse=True)
def _real_time_ahead(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that waits in real time (its PortAudio streams, a paced agent in a thread, the
    processes it starts) runs ahead of the other workers' batch work in the run's own session."""
    if not (_runs_long(request.node) or any(name in request.fixturenames for name in PACED_FIXTURES)):
        yield
        return
    with threads_raised():
        yield


_bed: PulseBed | None = None


@pytest.fixture
def pulse_bed() -> PulseBed:
    """A private PulseAudio server (virtual mic and speaker), started by the first test of a
    run of tests that need it on this worker, and stopped after the last one of the run (an
    idle bed still takes 2-3 % of a core: the daemon, its pipe source fed in real time, a
    low-latency reader on the speaker). Missing or broken, it fails the tests that need it:
    it never skips them."""
    global _bed
    if _bed is None:
        bed = PulseBed()
        try:
            bed.start()
        except PulseBedError as exc:
            where = "in CI" if os.environ.get("CI") else "on this machine"
            pytest.fail(f"audio test bed unavailable {where}: {exc}", pytrace=False)
        _bed = bed
    return _bed


def _stop_bed() -> None:
    global _bed
    if _bed is not None:
        bed, _bed = _bed, None
        bed.stop()
        PulseBed.reinit_portaudio()  # PortAudio forgets the bed's devices


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    # xdist hands a group's tests to one worker together, so the bed runs once per group
    if _bed is not None and (nextitem is None or "pulse_bed" not in getattr(nextitem, "fixturenames", ())):
        _stop_bed()


def pytest_sessionfinish() -> None:
    _stop_bed()


# Hypothesis profiles: "suite" for `make test` (the same examples every run, on every xdist
# worker, and no per-example deadline: a loaded machine must not fail a property);
# `--hypothesis-profile=nightly` (or HYPOTHESIS_PROFILE=nightly) runs every property test with
# 10,000 random examples (the frame fuzzing: at least 10,000 frames per dialect).
settings.register_profile("suite", derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "suite")
