"""The lean microphone of load sessions (``SessionOptions.lean_mic``).

A load generator holds hundreds of sessions with no devices: their microphones replay the
same clips, so the full mic path (gain, echo gate, VAD, pause squeezing, recorder, level
meters) is per-frame work that tells nothing. Here each frame is sent as the wire frames the
encoder gives for it (one shared cache, so a chunk is encoded once per dialect, not once per
session and frame), and the user's turn ends where the capture says its clip's speech ended
(``capture.speech_end``; else when the clip has been sent), as the VAD would have marked it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from voicecli.audio.base import CaptureStream, ScriptedSpeech
from voicecli.errors import AudioDeviceError
from voicecli.session.options import MicEncoder
from voicecli.transport import ConnectionEnded

if TYPE_CHECKING:
    from voicecli.session.state import SessionState


async def run_lean_mic(session: SessionState, capture: CaptureStream, encode: MicEncoder) -> None:
    was_finished = capture.finished
    scripted = capture if isinstance(capture, ScriptedSpeech) else None  # once: a protocol check is slow
    frames = capture.frames()
    try:
        async for frame in frames:
            if not session.live:
                continue  # between connections: no audio before the provider is ready
            try:
                for out in encode(session.adapter, frame):
                    await session._send_frame(out)
                session.frames_sent += 1
            except ConnectionEnded:
                continue  # the receive loop reports the end
            finished = capture.finished
            if finished and not was_finished:
                ended = scripted.speech_end if scripted is not None else None
                session._mark_turn_end("speech", ended or time.monotonic())
            was_finished = finished
    except ConnectionEnded:
        return
    except (AudioDeviceError, OSError) as exc:
        session.link.lose_capture(str(exc))
    finally:
        if isinstance(frames, AsyncGenerator):  # closed now, not when collected: a paced
            await frames.aclose()  # microphone leaves its clock
