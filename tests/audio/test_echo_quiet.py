"""The canceller's fast path while the agent is quiet: the reference timeline knows where its
last sound ended, and from there on it reads silence without copying and the echo guard gets
no block powers to compute. It must change nothing the canceller puts out."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.audio.conftest import from_pcm, pcm
from tests.support.room import PLAUSIBLE, room_impulse_response, speechlike
from voicecli.audio.aec import ApmEchoCanceller, load_apm
from voicecli.audio.aec_align import ReferenceTimeline

RATE = 1000
BLOCK = 10

blocks = st.lists(st.tuples(st.booleans(), st.integers(-30, 60)), min_size=1, max_size=40)


@given(blocks, st.integers(0, 3000), st.integers(1, 400))
def test_a_timeline_silent_from_a_time_reads_silence_from_it(played: list[tuple[bool, int]], at_ms: int,
                                                             n: int) -> None:
    """Blocks loud or silent, each after a jump of the play time (back, none, a gap): where
    ``silent_from`` says so, every read is silence; after the last loud block's end it says so."""
    timeline = ReferenceTimeline(RATE, seconds=0.5)
    t_ms, loud_end = 0, None
    for loud, jump in played:
        t_ms = max(0, t_ms + jump)
        timeline.add(pcm(np.full(BLOCK, 0.3 if loud else 0.0, np.float32)), RATE, t_ms / 1000)
        if loud:
            loud_end = max(loud_end or 0, t_ms + BLOCK)
        t_ms += BLOCK
    t = at_ms / 1000
    if timeline.silent_from(t):
        assert not timeline.read(t, n).any()
    if loud_end is None or at_ms >= loud_end:
        assert timeline.silent_from(t)


def _cancel(rate: int, fast: bool) -> tuple[np.ndarray, int]:
    """Speech-like agent turns with quiet between them, echoed by a room; the user talks in
    the quiet and over the second turn. The canceller's output, and its quiet blocks."""
    factory, why = load_apm()
    assert factory is not None, why
    aec = ApmEchoCanceller(rate, factory)
    quiet_blocks = 0
    if not fast:
        aec.timeline.silent_from = lambda t: False  # type: ignore[method-assign]
    else:
        silent_from = aec.timeline.silent_from

        def counting(t: float) -> bool:
            nonlocal quiet_blocks
            quiet = silent_from(t)
            quiet_blocks += quiet
            return quiet

        aec.timeline.silent_from = counting  # type: ignore[method-assign]
    turn = speechlike(rate, 1.5, seed=5)
    far = np.concatenate([turn, np.zeros(rate), turn, np.zeros(rate // 2)]).astype(np.float32)
    mic = np.convolve(far, room_impulse_response(rate, PLAUSIBLE))[:far.size].astype(np.float32)
    mic[int(1.8 * rate):int(2.3 * rate)] += 0.1 * speechlike(rate, 0.5, seed=9)  # the user, in the quiet
    mic[int(3.0 * rate):int(3.5 * rate)] += 0.1 * speechlike(rate, 0.5, seed=11)  # and over the agent
    out = np.zeros_like(mic)
    block, frame = rate // 100, rate // 50
    t0, played = 50.0, 0
    for i in range(0, mic.size - frame + 1, frame):
        while played < far.size and played < i + 4 * block:  # the playback runs 40 ms ahead
            aec.reference(pcm(far[played:played + block]), rate, t0 + played / rate)
            played += block
        out[i:i + frame] = from_pcm(aec.process(pcm(mic[i:i + frame]), True, t0 + i / rate))
    return out, quiet_blocks


def test_the_quiet_fast_path_changes_nothing_the_canceller_puts_out() -> None:
    exact, _ = _cancel(16000, fast=False)
    fast, quiet = _cancel(16000, fast=True)
    assert quiet > 100  # the quiet second and the tail took the fast path
    assert np.array_equal(fast, exact)
