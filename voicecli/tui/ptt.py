"""Push-to-talk modes and held-key detection, free of any UI.

Terminals report key presses, never key releases (Textual does not enable the kitty
keyboard protocol's "report event types" flag). A held key shows up as one press, a
pause of the terminal's initial repeat delay (about 250-600 ms), then auto-repeats at a
steady interval (about 30-50 ms). :class:`HoldDetector` learns that interval and treats
a gap of several intervals as the release; there is no fixed timer that cuts a long hold
short, only a generous maximum.

In toggle and hold modes the talk key owns the user's turn: pressing it holds the turn,
releasing it ends the turn (the session's ``set_push_to_talk``/``set_gate``). Where the
provider's own turn detection still decides, :func:`turn_note` says so, once; where the wire
has no way to hold the turn (token-pcm, PerfVoice), it says that the pauses are not sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Literal


class PttMode(StrEnum):
    """How the microphone is opened."""

    OFF = "off"  # open mic: the provider's VAD finds the turns
    TOGGLE = "toggle"  # tap the talk key to open, tap again to close and commit
    HOLD = "hold"  # hold the talk key (or the on-screen button) while speaking

    @classmethod
    def parse(cls, value: str) -> PttMode:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise ValueError(f"push-to-talk mode must be off, toggle or hold; got {value!r}") from None

    def describe(self) -> str:
        return {
            PttMode.OFF: "open mic",
            PttMode.TOGGLE: "tap space to talk, tap again to send",
            PttMode.HOLD: "hold space (or the button) to talk",
        }[self]


Release = Literal["released", "max_hold"]


def turn_note(dialect: str, turn_hold: str, local: bool) -> str | None:
    """What remains the provider's under push-to-talk (shown once), or None when the
    release alone ends the user's turn. ``turn_hold`` is the adapter's capability."""
    if turn_hold == "always" or (turn_hold == "local" and local):
        return None
    if turn_hold == "none":  # the session keeps the pauses off the wire (voicecli.session.hold)
        return (f"push-to-talk: {dialect} finds the end of your turn itself and has no message to hold "
                "it, so pauses while the talk key is down are not sent; your turn ends just after the release")
    return (f"push-to-talk: {dialect} finds the end of your turn itself, so a pause while the "
            "talk key is down may still end it; the release ends it at the latest")


class HoldDetector:
    """Turns a stream of key presses (the first one, then auto-repeats) into a hold
    with a start and an end.

    ``press()`` is called for every key event; ``poll()`` is called periodically and
    says when the hold ended. The release gap is:

    - before the first auto-repeat: ``initial_delay`` (longer than any usual
      terminal repeat delay), so a held key is never dropped while the terminal waits;
    - after it, until a second repeat has shown the keyboard's rate: ``max_gap`` (a slow
      key repeat, or one a loaded machine delivers late, is no release);
    - then: ``release_factor`` times the learned repeat interval, at least ``min_gap``
      and at most ``max_gap``. The interval is learned as a running estimate of the gaps between
      repeats and kept for the next hold. Gaps shorter than ``MIN_REPEAT_S`` teach it
      nothing: no keyboard repeats that fast, they are repeats that queued up while the
      machine (or a remote terminal's connection) was busy and arrived together; learnt,
      they would shrink the release gap to its minimum just when hiccups are likely.

    A gap the app did not see happen is no release: when ``poll()`` runs ``STALL_S`` or more
    after the previous poll, the app was not running (a busy machine, its own speech work),
    and the repeats sent meanwhile may still wait unread in the terminal; the gap is counted
    again from that poll (once per quiet spell, so that an app whose polls are always late
    still finds the release).
    """

    MIN_REPEAT_S = 0.02  # 50 repeats a second: faster than any keyboard's auto-repeat
    STALL_S = 0.1  # a poll this late after the last one: the app itself was not running

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, initial_delay: float = 0.7,
                 release_factor: float = 4.0, min_gap: float = 0.15, max_gap: float = 0.6,
                 default_interval: float = 0.05, max_hold: float = 60.0) -> None:
        self.clock = clock
        self.initial_delay = initial_delay
        self.release_factor = release_factor
        self.min_gap = min_gap
        self.max_gap = max_gap
        self.max_hold = max_hold
        self.interval = default_interval
        self.held = False
        self.started_at = 0.0
        self.last_at = 0.0
        self.repeats = 0
        self._learned = False
        self._blocked_until_quiet = False
        self._polled_at: float | None = None  # the previous poll of this hold
        self._awake_at = float("-inf")  # the first poll after the app was not running

    # ---- input -----------------------------------------------------------------------------

    def press(self) -> bool:
        """A key event arrived. Returns True when it starts a new hold."""
        now = self.clock()
        if self._blocked_until_quiet:
            # the maximum hold was reached while the key was still held: ignore the
            # repeats until the key goes quiet, so the mic does not reopen by itself
            if now - self.last_at <= self.gap():
                self.last_at = now
                return False
            self._blocked_until_quiet = False
        if not self.held:
            self.held = True
            self.started_at = self.last_at = now
            self.repeats = 0
            self._polled_at = None
            return True
        gap = now - self.last_at
        self.last_at = now
        self.repeats += 1
        if self.repeats >= 2 and gap >= self.MIN_REPEAT_S:  # the first repeat's gap is the initial delay
            if self._learned:
                self.interval = 0.7 * self.interval + 0.3 * gap
            else:
                self.interval, self._learned = gap, True
        return False

    def release(self) -> None:
        """Forget the hold (the mode changed, or the mic was closed another way)."""
        self.held = False
        self.repeats = 0

    # ---- time ------------------------------------------------------------------------------

    def gap(self) -> float:
        """How long without a key event counts as a release, right now."""
        if self.repeats == 0:
            return self.initial_delay
        if not self._learned:  # one repeat so far: this keyboard's repeat rate is not known yet
            return self.max_gap
        return min(self.max_gap, max(self.min_gap, self.release_factor * self.interval))

    def deadline(self) -> float | None:
        """The clock time at which the hold ends if no key event comes first."""
        if not self.held:
            return None
        return min(self.last_at + self.gap(), self.started_at + self.max_hold)

    def poll(self) -> Release | None:
        """``"released"`` or ``"max_hold"`` once the hold is over (then not held any more)."""
        if not self.held:
            return None
        now = self.clock()
        if now - self.started_at >= self.max_hold:
            self.held = False
            self._blocked_until_quiet = True
            return "max_hold"
        if self._polled_at is not None and now - self._polled_at > self.STALL_S and self._awake_at < self.last_at:
            self._awake_at = now  # once per quiet spell: an app that is always late still finds the release
        self._polled_at = now
        if now - max(self.last_at, self._awake_at) > self.gap():
            self.held = False
            return "released"
        return None


class PushToTalk:
    """The mic gate as the user drives it: mode, key presses, button down/up.

    ``gate_open`` is what the session's gate must be. Each method returns the new gate
    state when it changed, else ``None``; the caller then calls ``session.set_gate``.
    """

    #: in toggle mode, key events closer together than this are auto-repeats of a held
    #: key, not taps: they do not toggle again
    REPEAT_GAP = 0.2

    def __init__(self, mode: PttMode = PttMode.OFF, detector: HoldDetector | None = None) -> None:
        self.detector = detector or HoldDetector()
        self.mode = mode
        self.gate_open = mode is PttMode.OFF
        self.button_held = False
        self._last_key = float("-inf")

    def set_mode(self, mode: PttMode) -> bool | None:
        self.mode = mode
        self.detector.release()
        self.button_held = False
        return self._set(mode is PttMode.OFF)

    def key(self) -> bool | None:
        """The talk key was pressed (or auto-repeated)."""
        if self.mode is PttMode.TOGGLE:
            now = self.detector.clock()
            repeat = now - self._last_key < self.REPEAT_GAP
            self._last_key = now
            return None if repeat else self._set(not self.gate_open)
        if self.mode is PttMode.HOLD:
            if self.detector.press():
                return self._set(True)
        return None

    def poll(self) -> tuple[bool | None, Release | None]:
        """Check for a held key's release; returns (gate change, why)."""
        if self.mode is not PttMode.HOLD or self.button_held:
            return None, None
        why = self.detector.poll()
        if why is None:
            return None, None
        return self._set(False), why

    def button(self, down: bool) -> bool | None:
        """The on-screen hold-to-talk button went down or up (real mouse events)."""
        if self.mode is PttMode.OFF:
            return None
        self.button_held = down
        if not down:
            self.detector.release()
        return self._set(down)

    @property
    def polling(self) -> bool:
        return self.mode is PttMode.HOLD and self.detector.held

    def _set(self, open_: bool) -> bool | None:
        if open_ == self.gate_open:
            return None
        self.gate_open = open_
        return open_
