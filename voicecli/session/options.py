"""How a session behaves: timeouts, audio choices, client tools."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from voicecli.session.reconnect import ReconnectSettings

if TYPE_CHECKING:
    from voicecli.audio.recorder import Recorder
    from voicecli.protocol.base import Adapter, Frame

ToolHandler = Callable[[Mapping[str, Any]], Any]
MicEncoder = Callable[["Adapter", bytes], "list[Frame]"]


@dataclass
class SessionOptions:
    open_timeout: float = 10.0
    ready_timeout: float = 15.0  # socket open → the provider's ready message
    allow_insecure: bool = False
    frame_ms: int = 20
    start_muted: bool = False
    half_duplex: bool = False
    half_duplex_tail_ms: int = 200
    aec: str = "auto"  # echo cancellation: auto (real mic and speaker), on, off
    vad_threshold_db: float = -40.0
    vad_hangover_ms: int = 600
    level_interval_s: float = 0.1
    close_grace_s: float = 2.0
    client_tools: Mapping[str, ToolHandler] = field(default_factory=dict)
    recorder: Recorder | None = None
    audio_output: bool = True
    audio_input: bool = True
    reconnect: ReconnectSettings | None = None  # None: a lost connection ends the session
    # load sessions (no devices): the mic's frames go out as they come, encoded by this
    # (shared, caching) encoder, with no gain, echo gate, VAD, recorder or meters
    # (:mod:`voicecli.session.lean_mic`)
    lean_mic: MicEncoder | None = None
