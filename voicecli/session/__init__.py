"""The async session worker: joins a dialect adapter, the transport and audio streams,
and exposes an event stream and a command queue. No UI code here."""

from voicecli.session.events import (
    AudioStatus,
    Connected,
    Connecting,
    Levels,
    Notice,
    PlaybackFlushed,
    SessionClosed,
    TextSent,
    TurnLatency,
)
from voicecli.session.options import SessionOptions
from voicecli.session.worker import Session

__all__ = [
    "AudioStatus", "Connected", "Connecting", "Levels", "Notice", "PlaybackFlushed",
    "Session", "SessionClosed", "SessionOptions", "TextSent", "TurnLatency",
]
