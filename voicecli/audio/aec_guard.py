"""What the echo canceller lets through, kept from the agent: a residual echo gate.

WebRTC's AEC3 needs to hear the far end for a while before it cancels it: at the start
of a session (and after the echo path moves, e.g. a sound server that stalled) its first
hundreds of milliseconds of echo come through nearly whole. The agent's voice activity
detection takes that for the user and cuts its own reply, so the canceller never hears
enough of it to converge. :class:`EchoGuard` stands after the canceller, per 10 ms block:

1. it predicts how loud the echo can be from the far-end blocks fed to the canceller: the
   block power ``lag`` blocks back (the echo path's delay, learnt from the envelopes'
   correlation; until it is known, every lag up to ``max_lag_ms``), the few blocks either
   side (timing jitter; for the first ``onset_wide_ms`` of far-end audio after
   ``onset_after_ms`` of silence, or after the timing broke (:meth:`widen`), every
   shorter lag and ``late_ms`` more too, and longer, up to ``wide_max_ms``, while fewer
   than eight in ten of the last ``settle_ms`` of echo blocks were cleaned by 20 dB (the
   canceller has not found the new delay yet): a playback stream that (re)started places its
   audio by a reported time that can be off by tens, even hundreds of milliseconds, even
   after its echo: ``ahead_ms`` of the reference stamped later than now count then too;
   AEC3 leaks while it finds the new delay) and the reverberation
   (older blocks, ``tail_db_per_s`` weaker per second), times the echo path's
   ``coupling`` (learnt from blocks the canceller cleaned by 20 dB or more, which hold
   echo only: the loudest of the first 50, then followed slowly; 0 dB until then: as loud
   as what was played);
2. while that prediction is above ``floor_db`` (the far end may be heard), a block that is
   not louder than the prediction by ``margin_db`` is echo, whatever the canceller left of
   it: it is replaced with silence;
3. louder blocks, two in a row (a lone one can be a click of residual echo), are the user
   talking over the agent (double talk): they pass, and the gate stays open ``hold_ms``
   after the last so that the user's speech is not chopped.

Before the canceller has converged this is a half-duplex gate that a voice louder than the
echo still opens; once the delay and the coupling are learnt, the prediction follows the
echo's envelope closely, and user speech above the echo's level goes through.

Where there is little or no echo (headphones, a microphone far from the speaker) the
canceller never cleans 20 dB off anything and the coupling would stay at its cautious 0 dB:
the user could not talk over the agent unless louder than the agent's playback. So until a
coupling is learnt the guard bounds it from above: whatever the delay, the microphone holds
the echo and more, so over any ``bound_window_ms`` while the far end plays, the echo path
can return no more than the microphone's energy over the far end's (its quietest window at
any delay up to ``bound_lag_ms``, far longer than the echo path's, so that a playback whose
reported timing is off by a second still counts). The bound is taken every 100 ms while the
far end has played throughout, and the lowest of the last ``bound_keep_s`` of far-end play
stands, ``bound_margin_db`` higher (a block's echo can rise above the window's mean): the
coupling used is the lower of the two. A quiet microphone beside a talking agent thus lets
the user through over the agent's words after about two seconds of them, and across its
pauses; an echo, heard, keeps the bound at its level, and once the canceller has shown an
echo the learnt coupling alone counts.
"""

from __future__ import annotations

import logging
import math
from collections import deque

import numpy as np
import numpy.typing as npt

from voicecli.pcm.convert import FloatArray

Powers = npt.NDArray[np.float64]
log = logging.getLogger(__name__)

_TINY = 1e-12
_MAX_COUPLING_DB = 10.0  # louder than that, the "echo" is something else
_FIRST_SEEN = 50  # echo-only blocks the first coupling is the loudest of


def _db(power: float) -> float:
    return 10.0 * math.log10(power + _TINY)


class EchoGuard:
    """Feed each 10 ms block: the far end as fed to the canceller, the microphone, the
    canceller's output; get the block to send."""

    def __init__(self, rate: int, *, max_lag_ms: float = 450.0, jitter_ms: float = 30.0,
                 tail_ms: float = 300.0, tail_db_per_s: float = 150.0, margin_db: float = 3.0,
                 hold_ms: float = 150.0, floor_db: float = -60.0, learn_after_ms: float = 1000.0,
                 onset_after_ms: float = 300.0, onset_wide_ms: float = 500.0, ahead_ms: float = 500.0,
                 late_ms: float = 200.0, wide_max_ms: float = 2500.0, settle_ms: float = 200.0,
                 bound_window_ms: float = 500.0, bound_lag_ms: float = 1500.0, bound_keep_s: float = 3.0,
                 bound_margin_db: float = 10.0) -> None:
        self.block = rate // 100
        self.max_lag = int(max_lag_ms // 10)
        self.jitter = int(jitter_ms // 10)
        self.tail = int(tail_ms // 10)
        self.late = int(late_ms // 10)
        self._size = self.max_lag + self.jitter + self.late + self.tail + 1
        self._far = np.zeros(self._size, np.float64)  # far-end block powers, newest first
        self.ahead = int(ahead_ms // 10)
        self._ahead = np.zeros(0, np.float64)  # block powers stamped after now (``history``)
        self._tail_gain = 10.0 ** (-tail_db_per_s / 100.0 * np.arange(self.tail + 1) / 10.0)
        self._score = np.zeros(self.max_lag + 1, np.float64)
        self.margin_db = margin_db
        self.hold = int(hold_ms // 10)
        self.floor_db = floor_db
        self._floor_p = 10.0 ** (floor_db / 10.0)
        self.onset_after = int(onset_after_ms // 10)
        self.onset_wide = int(onset_wide_ms // 10)
        self._quiet = self.onset_after  # far-end blocks in a row below the floor
        self._wide = 0  # blocks left of a reply's start, when every shorter delay counts
        self.wide_max = int(wide_max_ms // 10)
        self._wide_for = 0  # blocks the current wide watch has lasted
        self._settle_n = max(1, int(settle_ms // 10))
        self._settled: deque[bool] = deque(maxlen=self._settle_n)  # this watch's echo blocks: cleaned by 20 dB
        self.learn_after = int(learn_after_ms // 10)
        self.coupling_db = 0.0
        self._coupled = False  # coupling learnt from blocks the canceller cleaned
        self._seen: list[float] = []
        self._heard = 0  # blocks of audible echo-path correlation gathered
        self.lag: int | None = None  # the echo path's delay in blocks, once learnt
        self._open = 0  # blocks the gate stays open (double talk)
        self._loud = 0  # blocks in a row louder than the echo can be
        self.blocks_muted = 0
        self.voiced_blocks_muted = 0  # of those, blocks 20 dB over the floor (a voice, or a loud echo)
        self._holding_voice = False  # in a run of such blocks (logged once a run)
        self.double_talk_blocks = 0
        # the coupling's upper bound: the microphone's and the far end's block powers (rings)
        self._bound_w = int(bound_window_ms // 10)
        self._mic = np.zeros(self._bound_w, np.float64)
        self._far_long = np.zeros(self._bound_w + int(bound_lag_ms // 10), np.float64)
        self._mic_n = 0  # blocks seen (the far end's history is whole once it reaches its length)
        self._bounds: deque[float] = deque(maxlen=max(1, int(bound_keep_s * 10)))
        self.bound_margin_db = bound_margin_db

    def predicted_db(self) -> float:
        """How loud the echo can be in the current block (dBFS), coupling included."""
        return self._reach_db() + self.used_coupling_db()

    def bound_db(self) -> float | None:
        """The highest coupling the microphone allows (dB, margin included), once it was measured."""
        return min(self._bounds) + self.bound_margin_db if self._bounds else None

    def used_coupling_db(self) -> float:
        """The coupling the prediction takes: the learnt one, or, until one is learnt from the
        echo, the bound where that is lower."""
        bound = self.bound_db()
        return self.coupling_db if bound is None or self._coupled else min(self.coupling_db, bound)

    def _measure_bound(self, mic_p: float) -> None:
        """Every 100 ms of a far end that played through the whole window at every delay up to
        ``bound_lag_ms``: how much of the far end the microphone could at most have heard."""
        n = self._mic_n  # rings written in place (the oldest block overwritten), read in order below
        self._mic[n % self._mic.size] = mic_p
        self._far_long[n % self._far_long.size] = self._far[0]
        self._mic_n = n + 1
        if self._mic_n % 10 or self._mic_n < self._far_long.size or self._coupled:
            return
        w = self._bound_w
        far = np.roll(self._far_long, -(self._mic_n % self._far_long.size))  # oldest first
        sums = np.convolve(far, np.ones(w), "valid")
        quietest = float(sums.min())
        if quietest < w * self._floor_p * 100.0:  # the far end paused (20 dB over the floor)
            return
        self._bounds.append(_db(float(self._mic.sum()) / quietest))

    def _reach_db(self) -> float:
        """The far end's level that can be echoing now: the echo's level before coupling."""
        if self.lag is None:
            lo, hi = 0, self.max_lag + self.jitter
        elif self._wide > 0:  # a reply's start, or the timing broke: the delay may have moved
            lo, hi = 0, self.lag + self.jitter + self.late
        else:
            lo, hi = max(0, self.lag - self.jitter), self.lag + self.jitter
        direct = float(self._far[lo:hi + 1].max())
        if self._wide > 0 and self._ahead.size:  # played audio stamped later than it was heard
            direct = max(direct, float(self._ahead.max()))
        # reverberation: what was played before the window, fading
        older = self._far[hi:hi + self.tail + 1] * self._tail_gain[: min(self.tail + 1, self._size - hi)]
        return _db(max(direct, float(older.max()) if older.size else 0.0))

    def widen(self) -> None:
        """The far end's timing broke (its stream restarted, the microphone's clock jumped):
        for ``onset_wide_ms``, every shorter delay and the reference stamped ahead count."""
        self._start_wide()

    def _start_wide(self) -> None:
        self._wide, self._wide_for = self.onset_wide, 0
        self._settled.clear()

    def _settling(self) -> bool:
        """The canceller has not shown yet that it cancels this reply's echo (it may still be
        finding a delay that moved): fewer than 8 in 10 of the last echo blocks cleaned."""
        settled = self._settled
        return len(settled) < self._settle_n or sum(settled) < 0.8 * self._settle_n

    @property
    def span(self) -> int:
        """Blocks of far-end history ``process`` takes: ``ahead`` to come, then from now back."""
        return self.ahead + self._size

    def process(self, far: FloatArray, mic: FloatArray, out: FloatArray, history: Powers | None = None) -> bool:
        """One block; True when it must be replaced with silence. ``far``: the far-end block
        fed to the canceller with it; or ``history``: the far end's block powers as they are
        known now (``span`` of them, the furthest ahead first), so that a reference that
        reached the canceller too late for its block still counts here."""
        if history is not None:
            self._ahead = history[: self.ahead]
            self._far = history[self.ahead:]
        else:
            self._far = np.roll(self._far, 1)
            self._far[0] = float(np.dot(far, far)) / max(1, far.size)
        now = max(float(self._far[0]), float(self._ahead.max()) if self._ahead.size else 0.0)
        if now > self._floor_p:
            if self._quiet >= self.onset_after:
                self._start_wide()
            self._quiet = 0
        else:
            self._quiet += 1
        if self._wide > 0:
            self._wide_for += 1
            if self._wide > 1 or not self._settling() or self._wide_for >= self.wide_max:
                self._wide -= 1  # (the last block of the watch waits for the canceller to settle)
        mic_p = float(np.dot(mic, mic)) / max(1, mic.size)
        out_p = float(np.dot(out, out)) / max(1, out.size)
        mic_db, out_db = _db(mic_p), _db(out_p)
        self._learn(mic_p, mic_db, out_db)
        self._measure_bound(mic_p)
        predicted = self.predicted_db()
        if self._wide > 0 and predicted >= self.floor_db + 10.0 and mic_db >= self.floor_db + 10.0:
            self._settled.append(mic_db - out_db >= 20.0)
        holding_voice, self._holding_voice = self._holding_voice, False
        if predicted < self.floor_db:
            self._open = self._loud = 0
            return False
        if out_db > predicted + self.margin_db:
            self._loud += 1
            if self._loud >= 2 or self._open > 0:  # 20 ms of it: not a click of residual echo
                self._open = self.hold
                self.double_talk_blocks += 1
                return False
        else:
            self._loud = 0
        if self._open > 0:
            self._open -= 1
            return False
        self.blocks_muted += 1
        if mic_db >= self.floor_db + 20.0:  # a voice, or a loud echo, held back
            self.voiced_blocks_muted += 1
            if not holding_voice and log.isEnabledFor(logging.DEBUG):
                bound = self.bound_db()
                log.debug("echo gate holds back a loud block: mic %.0f dB, canceller out %.0f dB, echo up to "
                          "%.0f dB (far end %.0f dB, coupling %.0f dB learnt%s, bound %s), watch %s, ahead %.0f dB",
                          mic_db, out_db, predicted, self._reach_db(), self.coupling_db,
                          "" if self._coupled else " (not yet)", "none" if bound is None else f"{bound:.0f} dB",
                          "wide" if self._wide > 0 else "narrow",
                          _db(float(self._ahead.max())) if self._ahead.size else float("-inf"))
            self._holding_voice = True
        return True

    def _learn(self, mic_p: float, mic_db: float, out_db: float) -> None:
        lags = self._far[: self.max_lag + 1]
        if float(lags.max()) <= 10.0 ** (self.floor_db / 10.0) or mic_db < self.floor_db + 10.0:
            return
        # the echo path's delay: where the microphone's envelope follows the far end's
        self._score *= 0.995
        self._score += mic_p * lags
        self._heard += 1
        if self._heard >= self.learn_after:
            self.lag = int(np.argmax(self._score))
        # the coupling, from blocks that held echo only: the canceller took 20 dB or more out
        if self.lag is not None and mic_db - out_db >= 20.0:
            seen = min(_MAX_COUPLING_DB, mic_db - self._reach_db())
            if not self._coupled:  # 0 dB (the cautious guess) until enough echo was seen
                self._seen.append(seen)
                if len(self._seen) >= _FIRST_SEEN:
                    self.coupling_db, self._coupled = max(self._seen), True
            else:  # a slow peak follower: up 10 dB a second at most (the user's first syllable
                # over the agent can be cancelled too, for a block or two), down 1 dB a second
                self.coupling_db = max(min(seen, self.coupling_db + 0.1), self.coupling_db - 0.01)
