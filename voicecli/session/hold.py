"""Push-to-talk on a wire with no hold message: the server must not hear the pauses.

Token-pcm and PerfVoice have no message that holds the user's turn (their adapters'
``turn_hold`` is ``"none"``): the server's own turn detection ends the turn on a pause. While
push-to-talk holds the turn there, :class:`PauseSqueezer` keeps the pauses off the wire:

- a frame at least ``threshold_db`` loud is voiced and is sent, and so are the
  ``hangover_ms`` of quieter frames after it (the ends of words, short gaps between them);
- later quiet frames are not sent; the last ``preroll_ms`` of them are kept and go out just
  before the next voiced frame (the soft start of the next word), so the server hears
  ``hangover_ms + preroll_ms`` of quiet at most, well under its end-of-turn pause;
- on the release, ``trailing_ms`` of silence go out at once, so the server's end of turn
  fires now rather than after that much real time (the closed mic then keeps streaming
  silence as usual).

Elsewhere (not held, or a dialect with a hold message) frames pass unchanged.
"""

from __future__ import annotations

from collections import deque

from voicecli.pcm.levels import rms_db

HANGOVER_MS = 240
PREROLL_MS = 100
TRAILING_MS = 1000  # the local agent ends a turn after 600 ms of quiet


class PauseSqueezer:
    """Feed every mic frame with whether the pauses are to be squeezed out; send what it returns."""

    def __init__(self, frame_ms: int, threshold_db: float = -40.0, hangover_ms: int = HANGOVER_MS,
                 preroll_ms: int = PREROLL_MS, trailing_ms: int = TRAILING_MS) -> None:
        self.frame_ms = max(1, frame_ms)
        self.threshold_db = threshold_db
        self.hangover_frames = hangover_ms // self.frame_ms
        self.trailing_frames = -(-trailing_ms // self.frame_ms)
        self._kept: deque[bytes] = deque(maxlen=max(1, preroll_ms // self.frame_ms))
        self._quiet = self.hangover_frames  # quiet frames since the last voiced one
        self._active = False
        self.dropped = 0  # frames kept off the wire (for tests and figures)

    def frames(self, frame: bytes, squeeze: bool) -> list[bytes]:
        """The frames to send now for ``frame``; ``squeeze``: push-to-talk holds the turn on a
        dialect with no hold message."""
        if not squeeze:
            out = self._release(frame) if self._active else []
            return [*out, frame]
        if not self._active:
            self._active, self._quiet = True, 0  # a hold starts as if just voiced: nothing is lost
        if rms_db(frame) >= self.threshold_db:
            out = [*self._kept, frame]
            self._kept.clear()
            self._quiet = 0
            return out
        self._quiet += 1
        if self._quiet <= self.hangover_frames:
            return [frame]
        if len(self._kept) == self._kept.maxlen:
            self.dropped += 1
        self._kept.append(frame)
        return []

    def _release(self, frame: bytes) -> list[bytes]:
        """The hold ended: the quiet the server needs to end the turn, at once."""
        self._active = False
        self._kept.clear()
        return [bytes(len(frame))] * self.trailing_frames
