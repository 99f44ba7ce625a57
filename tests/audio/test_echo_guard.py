"""The residual echo gate after the canceller: cold starts, double talk, a silent far end."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.audio.conftest import from_pcm, pcm
from tests.support.room import HARSH, PLAUSIBLE, room_impulse_response, speechlike
from voicecli.audio.aec import ApmEchoCanceller, load_apm
from voicecli.audio.aec_guard import EchoGuard

RATE = 16000
BLOCK = RATE // 100


def _longest_loud_run_ms(x: np.ndarray, threshold_db: float = -40.0) -> int:
    """The longest run of 10 ms windows above the local agent's VAD threshold (it needs 60 ms)."""
    best = run = 0
    for k in range(0, x.size - BLOCK + 1, BLOCK):
        w = np.asarray(x[k:k + BLOCK], np.float64)
        loud = 10 * np.log10(np.mean(w ** 2) + 1e-12) > threshold_db
        run = run + 10 if loud else 0
        best = max(best, run)
    return best


def _session(guard: bool, near: np.ndarray | None = None, seconds: float = 3.0) -> np.ndarray:
    """A cold canceller hearing a reply through the plausible room from its first sample,
    behind a sound system that buffers 200 ms (AEC3 cancels a first echo at once up to a
    delay of ~120 ms; further, it leaks for ~70 ms while it finds the delay)."""
    factory, why = load_apm()
    assert factory is not None, why
    aec = ApmEchoCanceller(RATE, factory, guard=guard)
    far = speechlike(RATE, seconds, seed=9)
    mic = np.convolve(far, room_impulse_response(RATE, PLAUSIBLE.with_(delay_ms=200.0)))[:far.size]
    if near is not None:
        mic = mic + near[:mic.size]
    frame, t0 = RATE // 50, 20.0
    aec.reference(pcm(far[:5 * frame]), RATE, t0)
    out = np.zeros_like(mic)
    for i in range(0, mic.size - frame + 1, frame):
        ahead = slice(i + 5 * frame, i + 6 * frame)  # played 100 ms ahead of the microphone frame
        aec.reference(pcm(far[ahead]), RATE, t0 + ahead.start / RATE)
        out[i:i + frame] = from_pcm(aec.process(pcm(mic[i:i + frame]), True, t0 + i / RATE))
    return out


def test_a_cold_canceller_leaks_the_first_echo_and_the_guard_keeps_it_from_the_agent():
    leaky = _session(guard=False)
    assert _longest_loud_run_ms(leaky[:RATE // 2]) >= 60  # what the agent would take for the user
    guarded = _session(guard=True)
    assert _longest_loud_run_ms(guarded) < 60


def test_the_user_talking_over_the_agent_gets_through_the_guard():
    near = np.zeros(RATE * 4, np.float32)
    near[RATE * 2:RATE * 3] = speechlike(RATE, 1.0, seed=4, amp=0.3)  # as loud as the agent's voice
    talk = slice(RATE * 2, RATE * 3)
    guarded = _session(guard=True, near=near, seconds=4.0)
    bare = _session(guard=False, near=near, seconds=4.0)
    assert _longest_loud_run_ms(guarded[talk]) >= 100  # the agent's VAD needs 60 ms
    kept = 10 * np.log10(np.mean(np.asarray(guarded[talk], np.float64) ** 2) / np.mean(bare[talk] ** 2))
    assert kept > -6.0  # most of what the canceller let through (a word's first 10 ms is held back)
    assert _longest_loud_run_ms(guarded[:RATE * 2]) < 60


def test_guard_learns_the_echo_path_delay_and_coupling():
    guard = EchoGuard(RATE)
    far = speechlike(RATE, 3.0, seed=2)
    echo = np.convolve(far, room_impulse_response(RATE, PLAUSIBLE.with_(delay_ms=120.0)))[:far.size]
    cleaned = echo * 0.001  # a converged canceller: 60 dB out
    for k in range(0, far.size - BLOCK + 1, BLOCK):
        guard.process(far[k:k + BLOCK], echo[k:k + BLOCK], cleaned[k:k + BLOCK])
    assert guard.lag == 12
    assert guard.coupling_db == pytest.approx(PLAUSIBLE.attenuation_db, abs=4.0)


def test_guard_passes_everything_while_the_far_end_is_silent():
    guard = EchoGuard(RATE)
    voice = speechlike(RATE, 1.0, seed=3)
    silent = np.zeros(BLOCK, np.float32)
    assert not any(guard.process(silent, voice[k:k + BLOCK], voice[k:k + BLOCK])
                   for k in range(0, voice.size - BLOCK + 1, BLOCK))
    assert guard.blocks_muted == 0


def test_a_reference_that_restarts_mid_reply_widens_the_guards_watch():
    factory, why = load_apm()
    assert factory is not None, why
    aec = ApmEchoCanceller(RATE, factory)
    assert aec.guard is not None
    far = speechlike(RATE, 2.0, seed=5)
    frame, t0 = RATE // 50, 30.0
    jump = 0.0
    widened = []
    for i in range(0, far.size - 6 * frame, frame):
        if i == RATE:  # a second in, the playback stream underflows: its clock starts again, 40 ms on
            jump = 0.04
        ahead = i + 5 * frame
        aec.reference(pcm(far[ahead:ahead + frame]), RATE, t0 + ahead / RATE + jump)
        aec.process(pcm(far[i:i + frame] * 0.1), True, t0 + i / RATE)
        widened.append(aec.guard._wide > 0)
    assert not any(widened[30:RATE // frame])  # a steady stream, its start long behind
    assert any(widened[RATE // frame:RATE // frame + 3])


def test_a_replys_wide_watch_lasts_until_the_canceller_has_found_the_echo():
    """At a reply's start every delay counts for ``onset_wide_ms``, and longer while the
    canceller still leaves the echo whole (it has not found a delay that moved): the guard's
    narrow watch would let that echo through. Once most echo blocks are cleaned, it ends."""
    guard = EchoGuard(RATE)
    far = speechlike(RATE, 4.0, seed=6)
    echo = np.convolve(far, room_impulse_response(RATE, PLAUSIBLE))[:far.size]
    wide = []
    for k in range(0, far.size - BLOCK + 1, BLOCK):
        cleaned = echo[k:k + BLOCK] * (1.0 if k < 2 * RATE else 0.001)  # the canceller settles at 2 s
        guard.process(far[k:k + BLOCK], echo[k:k + BLOCK], cleaned)
        wide.append(guard._wide > 0)
    assert all(wide[:150])  # 1.5 s, three times the fixed watch: the echo is not cancelled yet
    assert not any(wide[260:])  # ended soon after the canceller cleaned the echo


def _gate(guard: EchoGuard, far: np.ndarray, mic: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """What the guard lets through, block by block (``out``: the canceller's output; by default
    the microphone, as a canceller with nothing to cancel leaves it)."""
    out = mic if out is None else out
    kept = np.array(out, np.float32)
    for k in range(0, far.size - BLOCK + 1, BLOCK):
        if guard.process(far[k:k + BLOCK], mic[k:k + BLOCK], out[k:k + BLOCK]):
            kept[k:k + BLOCK] = 0.0
    return kept


def _quiet_room(n: int) -> np.ndarray:
    return (np.random.default_rng(7).standard_normal(n) * 3e-4).astype(np.float32)  # -70 dBFS of noise


def test_with_no_echo_path_the_user_talks_over_the_agent_softer_than_its_playback():
    """Headphones: the canceller never cleans anything, so no coupling is ever learnt; the
    microphone's quiet beside the agent's voice bounds it, and a voice 10 dB below the
    agent's playback gets through (before the bound, nothing under the playback's level did)."""
    far = speechlike(RATE, 5.0, seed=2)
    mic = _quiet_room(far.size)
    talk = slice(3 * RATE, 4 * RATE)
    mic[talk] += speechlike(RATE, 1.0, seed=4, amp=0.1)
    guard = EchoGuard(RATE)
    kept = _gate(guard, far, mic)
    assert guard.coupling_db == 0.0  # nothing learnt from the canceller
    assert guard.used_coupling_db() < -30.0
    assert _longest_loud_run_ms(kept[talk]) >= 200
    assert np.mean(kept[talk] ** 2) == pytest.approx(np.mean(mic[talk] ** 2), rel=0.05)


def test_a_quiet_microphone_lets_the_user_in_when_the_agent_resumes_after_a_pause():
    """The agent pauses 1.5 s, the user starts a question, the agent's voice comes back over it:
    the bound learnt before the pause stands across it (it counts far-end play, not time)."""
    far = speechlike(RATE, 6.0, seed=5)
    far[3 * RATE:int(4.5 * RATE)] = 0.0
    mic = _quiet_room(far.size)
    talk = slice(int(4.3 * RATE), int(5.5 * RATE))
    mic[talk] += speechlike(RATE, 1.2, seed=4, amp=0.1)
    guard = EchoGuard(RATE)
    kept = _gate(guard, far, mic)
    over = slice(int(4.5 * RATE), int(5.5 * RATE))  # the user's words under the agent's resumed voice
    assert np.mean(kept[over] ** 2) == pytest.approx(np.mean(mic[over] ** 2), rel=0.05)


@pytest.mark.parametrize("room", [PLAUSIBLE, HARSH], ids=["plausible", "harsh"])
def test_an_echo_the_canceller_leaves_whole_stays_gated_with_the_bound(room):
    """A canceller that never converges: the echo it leaves is as loud as the room makes it; the
    bound, measured on that echo, stays above it and the gate keeps it from the agent."""
    far = speechlike(RATE, 5.0, seed=9)
    echo = np.convolve(far, room_impulse_response(RATE, room.with_(delay_ms=120.0)))[:far.size]
    mic = (echo + _quiet_room(far.size)).astype(np.float32)
    guard = EchoGuard(RATE)
    kept = _gate(guard, far, mic)
    assert guard.bound_db() is not None and guard.bound_db() > room.attenuation_db
    assert _longest_loud_run_ms(kept[RATE:]) < 60


def test_a_voice_the_guard_holds_back_is_counted_and_logged_once_a_run(caplog):
    """For a session's log: each run of loud blocks held back is one debug line with the
    prediction's parts (what a failure to hear the user needs to be told from)."""
    guard = EchoGuard(RATE)
    far = speechlike(RATE, 3.0, seed=2)
    mic = _quiet_room(far.size)
    mic[RATE:2 * RATE] += speechlike(RATE, 1.0, seed=4, amp=0.1)  # 10 dB under the agent, no bound yet
    with caplog.at_level(logging.DEBUG, logger="voicecli.audio.aec_guard"):
        _gate(guard, far, mic)
    lines = [r.getMessage() for r in caplog.records if "echo gate holds back" in r.getMessage()]
    assert guard.voiced_blocks_muted > 20
    assert 1 <= len(lines) < guard.voiced_blocks_muted
    assert "bound none" in lines[0] and "coupling 0 dB learnt (not yet)" in lines[0], lines[0]
