"""The session's audio devices, microphone and meters.

The capture and playback streams open when the provider says the session started (at its
formats; kept across reconnects at the same formats). The mic loop sends every capture
frame (20 ms, session rate), gated by mute and push-to-talk, as ``SendAudio``; while
push-to-talk holds the turn on a wire with no hold message the pauses are kept off it
(:mod:`voicecli.session.hold`). It also marks the client-side turns: the end of the user's
speech (for the ``reply`` latency and, where the dialect wants it, a ``CommitAudio``) and a
barge-in where the client must interrupt. The meter loop emits throttled mic and agent
levels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from voicecli.audio.base import CaptureStream, LevelledCapture
from voicecli.audio.vad import WINDOW_MS
from voicecli.errors import AudioDeviceError
from voicecli.protocol.commands import CommitAudio, Interrupt, SendAudio
from voicecli.protocol.events import SessionStarted
from voicecli.session.lean_mic import run_lean_mic
from voicecli.session.state import SessionState
from voicecli.transport import ConnectionEnded

log = logging.getLogger("voicecli.session")


class MicAndMeters(SessionState):
    """Opens and closes the session's streams; runs the mic and meter loops."""

    async def _open_audio(self, event: SessionStarted) -> None:
        await self.link.open(event)
        if self.link.capture is not None:
            lean = self.options.lean_mic  # load sessions: voicecli.session.lean_mic
            mic = self._mic_loop(self.link.capture) if lean is None else run_lean_mic(self, self.link.capture, lean)
            self._mic_task = asyncio.create_task(mic, name="session-mic")

    async def _close_audio(self, keep_recorder: bool) -> None:
        mic, self._mic_task = self._mic_task, None
        if mic is not None:
            mic.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await mic
        if not keep_recorder:
            await self.link.close()
            return
        for stream in (self.link.capture, self.link.playback):  # other rates: reopen, same recorder
            if stream is not None:
                with contextlib.suppress(Exception):
                    await stream.close()
        self.link.capture = self.link.playback = None

    async def _mic_loop(self, capture: CaptureStream) -> None:
        was_finished = False
        self._vad = self._new_vad(capture.rate)
        measured = capture if isinstance(capture, LevelledCapture) else None  # once: a protocol check is slow
        try:
            async for frame in capture.frames():
                if not self.live:
                    continue  # between connections: no audio before the provider is ready
                caps = self.adapter.capabilities
                now = time.monotonic()
                captured = frame
                frame, silenced = self.link.gate(frame, self.mic_open, now)
                self.silence_frames_sent += silenced
                # the capture measured this frame already, unless the gate changed it
                levels = measured.window_levels_db(WINDOW_MS) if measured is not None and frame is captured else None
                await self._on_mic_frame(frame, now, caps.client_turns, caps.client_interrupt, levels)
                squeeze = self.holding and caps.turn_hold == "none"  # no hold message: hide the pauses
                try:
                    for part in self._pauses.frames(frame, squeeze):
                        for out in self.adapter.encode(SendAudio(part)):
                            await self._send_frame(out)
                        self.frames_sent += 1
                except ConnectionEnded:
                    continue  # the receive loop reports the end; the mic stays open
                if self.options.recorder is not None:
                    self.options.recorder.mic(frame, capture.rate)
                if capture.finished and not was_finished:
                    was_finished = True
                    if not self._vad.speaking and self._turn_end is None:
                        self._mark_turn_end("speech", self._last_voiced or now)
        except ConnectionEnded:
            return
        except (AudioDeviceError, OSError) as exc:
            self.link.lose_capture(str(exc))
        except Exception as exc:  # noqa: BLE001 - a fault here must not silence the mic without a word
            log.exception("the microphone loop failed")
            self.link.lose_capture(f"{type(exc).__name__}: {exc}")

    async def _on_mic_frame(self, frame: bytes, now: float, client_turns: bool,
                            client_interrupt: bool, levels: list[float] | None = None) -> None:
        """Client-side turn marks: the end of the user's speech (for the latency figure and,
        where the dialect wants it, a commit) and barge-in where the client must interrupt."""
        for marker in self._vad.feed(frame) if levels is None else self._vad.feed_levels(levels):
            if marker == "speech_start":
                self._turn_end = None
                if client_interrupt and (self.agent_talking or self.link.busy):
                    self.submit(Interrupt("user_speaking"))
            elif marker == "speech_end" and not self.push_to_talk:  # push-to-talk: the release ends it
                self._mark_turn_end("speech", self._last_voiced)
                if client_turns:
                    self._commands.put_nowait(CommitAudio())
        if self._vad.speaking and self._vad.voiced:
            self._last_voiced = now + self.options.frame_ms / 1000

    async def _meter_loop(self) -> None:
        if self.options.lean_mic is not None:
            return  # load sessions: no meters
        await self._started.wait()
        while True:
            await asyncio.sleep(self.options.level_interval_s)
            levels = self.link.levels(self.mic_open)
            if levels is not None:
                self._emit(levels)
