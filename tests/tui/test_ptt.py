"""Held-key detection and the push-to-talk gate, with a fake clock."""

from __future__ import annotations

import pytest

from voicecli.tui.ptt import HoldDetector, PttMode, PushToTalk


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def hold_key(ptt: PushToTalk, clock: Clock, seconds: float, *, initial: float = 0.5,
             interval: float = 0.04, step: float = 0.01) -> list[bool]:
    """Simulate a held key (press, initial delay, auto-repeat) polling every ``step``;
    returns the gate state seen at every poll."""
    seen: list[bool] = []
    ptt.key()
    end = clock.now + seconds
    next_key = clock.now + initial
    while clock.now < end:
        clock.advance(step)
        if clock.now >= next_key:
            ptt.key()
            next_key += interval
        ptt.poll()
        seen.append(ptt.gate_open)
    return seen


def release_after(ptt: PushToTalk, clock: Clock, limit: float = 2.0, step: float = 0.01) -> float:
    """Seconds of silence from the key until the gate closes."""
    waited = 0.0
    while ptt.gate_open and waited < limit:
        clock.advance(step)
        waited += step
        ptt.poll()
    return waited


def test_long_hold_is_never_cut_and_release_is_quick() -> None:
    clock = Clock()
    ptt = PushToTalk(PttMode.HOLD, HoldDetector(clock))
    seen = hold_key(ptt, clock, seconds=8.0)
    assert all(seen), "the gate closed during a held key"
    assert ptt.detector.interval == pytest.approx(0.04, abs=0.005)
    waited = release_after(ptt, clock)
    assert 0.1 <= waited <= 0.25
    assert not ptt.gate_open


@pytest.mark.parametrize("initial", [0.25, 0.4, 0.6])
def test_initial_repeat_delay_does_not_release(initial: float) -> None:
    clock = Clock()
    ptt = PushToTalk(PttMode.HOLD, HoldDetector(clock))
    seen = hold_key(ptt, clock, seconds=initial + 0.3, initial=initial)
    assert all(seen)


def test_slow_repeat_rate_is_learned() -> None:
    clock = Clock()
    ptt = PushToTalk(PttMode.HOLD, HoldDetector(clock))
    assert all(hold_key(ptt, clock, seconds=3.0, initial=0.6, interval=0.1))
    assert ptt.detector.interval == pytest.approx(0.1, abs=0.01)
    assert 0.35 <= release_after(ptt, clock) <= 0.45


@pytest.mark.parametrize("interval", [0.15, 0.25])
def test_a_slow_keyboard_is_not_released_before_its_rate_is_known(interval: float) -> None:
    """Between the first repeat and the second the rate is not known yet: a slow key repeat
    (or a repeat a loaded machine delivers late) is no release then."""
    clock = Clock()
    ptt = PushToTalk(PttMode.HOLD, HoldDetector(clock))
    assert all(hold_key(ptt, clock, seconds=2.0, initial=0.5, interval=interval))
    assert ptt.detector.interval == pytest.approx(interval, abs=0.01)


def test_repeats_that_arrive_together_do_not_shrink_the_release_gap() -> None:
    """A busy machine (or a remote terminal) delivers queued repeats at once: they are not a
    faster keyboard, so the hiccup after them does not read as the release."""
    clock = Clock()
    ptt = PushToTalk(PttMode.HOLD, HoldDetector(clock))
    assert all(hold_key(ptt, clock, seconds=2.0, initial=0.6, interval=0.1))
    for _ in range(4):  # four repeats read in one go
        ptt.key()
    for _ in range(30):  # then a 300 ms hiccup before the next one
        clock.advance(0.01)
        ptt.poll()
    assert ptt.gate_open
    assert ptt.detector.interval == pytest.approx(0.1, abs=0.01)
    assert all(hold_key(ptt, clock, seconds=1.0, initial=0.0, interval=0.1))


def test_a_gap_the_app_did_not_see_is_no_release() -> None:
    """The app stalls for 0.8 s (its poll and the key repeats both wait); when it runs again
    its poll comes before the queued repeats: the hold goes on. A real release afterwards is
    still found, one gap later."""
    clock = Clock()
    ptt = PushToTalk(PttMode.HOLD, HoldDetector(clock))
    assert all(hold_key(ptt, clock, seconds=2.0, initial=0.6, interval=0.1))
    clock.advance(0.8)  # nothing ran
    assert ptt.poll() == (None, None) and ptt.gate_open
    for _ in range(8):  # the repeats that queued up meanwhile
        ptt.key()
    assert all(hold_key(ptt, clock, seconds=1.0, initial=0.1, interval=0.1))
    assert 0.35 <= release_after(ptt, clock) <= 0.45
    # a new hold; then an app whose every poll comes late still finds its release
    assert all(hold_key(ptt, clock, seconds=1.0, initial=0.5, interval=0.1))
    polls = 0
    while ptt.gate_open and polls < 20:
        clock.advance(0.15)
        ptt.poll()
        polls += 1
    assert not ptt.gate_open and polls <= 6


def test_a_tap_opens_for_the_initial_allowance_only() -> None:
    clock = Clock()
    ptt = PushToTalk(PttMode.HOLD, HoldDetector(clock, initial_delay=0.7))
    assert ptt.key() is True
    waited = release_after(ptt, clock)
    assert 0.69 <= waited <= 0.72


def test_maximum_hold_closes_and_stays_closed_while_still_held() -> None:
    clock = Clock()
    ptt = PushToTalk(PttMode.HOLD, HoldDetector(clock, max_hold=5.0))
    seen = hold_key(ptt, clock, seconds=7.0)
    assert seen[0] and not seen[-1]
    closed_at = seen.index(False)
    assert 4.9 <= closed_at * 0.01 <= 5.1
    assert not any(seen[closed_at:]), "the repeats of the still-held key reopened the mic"
    clock.advance(1.0)  # the key went up; a new press opens again
    assert ptt.key() is True and ptt.gate_open


def test_toggle_taps_and_ignores_auto_repeat() -> None:
    clock = Clock()
    ptt = PushToTalk(PttMode.TOGGLE, HoldDetector(clock))
    assert not ptt.gate_open
    assert ptt.key() is True
    clock.advance(0.03)
    assert ptt.key() is None  # an auto-repeat of the same press
    clock.advance(1.0)
    assert ptt.key() is False
    assert ptt.poll() == (None, None)


def test_off_mode_keeps_the_mic_open_and_button_and_mode_changes() -> None:
    clock = Clock()
    ptt = PushToTalk(PttMode.OFF, HoldDetector(clock))
    assert ptt.gate_open and ptt.key() is None and ptt.button(True) is None
    assert ptt.set_mode(PttMode.HOLD) is False
    assert ptt.button(True) is True
    clock.advance(5.0)
    assert ptt.poll() == (None, None)  # a held mouse button has real up events: no timeout
    assert ptt.button(False) is False
    assert ptt.set_mode(PttMode.OFF) is True


def test_mode_parse() -> None:
    assert PttMode.parse(" Hold ") is PttMode.HOLD
    with pytest.raises(ValueError, match="off, toggle or hold"):
        PttMode.parse("push")
