"""The talk screen's state, as plain data computed from session events.

:class:`TalkState` is the one place that interprets protocol and session events for the
status bar and the indicators; widgets only render it. The connection phase goes
``starting → connecting → ready`` (``reconnecting`` between connections, ``closed`` at the
end); until the provider says it is ready the mic is shown as ``waiting``, never as open.
The agent talks from its ``AgentStartedTalking`` until the speaker has played what came
before its ``AgentStoppedTalking``, where the dialect sends those (a provider sends audio
faster than it is played, and says it stopped talking when it has sent the last of it:
seconds may remain to be heard); elsewhere (ElevenLabs) from its first audio chunk until
playback has drained (the speaker's level stays silent for :data:`DRAINED_LEVELS` meter
readings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from voicecli.protocol.events import (
    AgentAudio,
    AgentStartedTalking,
    AgentStoppedTalking,
    ErrorEvent,
    Event,
    Interruption,
    Ping,
    SessionEnded,
    SessionStarted,
)
from voicecli.session.events import (
    AudioStatus,
    Connected,
    Connecting,
    ConnectionLost,
    Levels,
    PlaybackFlushed,
    Reconnected,
    ReconnectGaveUp,
    Reconnecting,
    SessionClosed,
    TurnLatency,
)

Phase = Literal["starting", "connecting", "ready", "reconnecting", "closed"]

SILENT_DB = -90.0  # a speaker level at or below this plays nothing
DRAINED_LEVELS = 3  # silent meter readings in a row (about 0.3 s) that end the agent's talk
SPEECH_DB = -40.0  # a mic level above this is speech (the session VAD's default threshold)
MUTED_SPEECH_LEVELS = 5  # readings of speech while muted (about 0.5 s) before the warning


def seconds(value: float) -> str:
    """A wait as people say it: "2 s", "0.5 s"."""
    return f"{value:.0f} s" if value >= 1 else f"{value:.2g} s"


def reconnecting(event: Reconnecting) -> str:
    return f"reconnecting in {seconds(event.delay_s)}… attempt {event.attempt}/{event.attempts}"


@dataclass
class TalkState:
    """What the screen shows about the session, apart from the conversation itself."""

    label: str = ""  # the provider URL (redacted) or "local agent, offline"
    dialect: str = ""
    profile: str | None = None
    agent: str = ""
    phase: Phase = "starting"
    detail: str = ""  # the phase in words when it says more (reconnecting in 2 s…, failed: …)
    failed: bool = False
    rate: int | None = None
    text_only: bool = False
    half_duplex: bool = False
    muted: bool = False
    ptt: str = "off"
    gate_open: bool = True
    agent_talking: bool = False
    talk_events: bool = False  # the dialect says when the agent talks
    latency_ms: float | None = None
    rtt_ms: float | None = None
    recording: Path | None = None
    input_device: str | None = None
    output_device: str | None = None
    speaking_muted: bool = False  # speech on the mic while muted (warned once per stretch)
    _silent_levels: int = field(default=0, repr=False)
    _provider_talking: bool = field(default=False, repr=False)  # between its talking events
    _queued: bool = field(default=False, repr=False)  # agent audio waits for the speaker
    _muted_speech: int = field(default=0, repr=False)

    @property
    def live(self) -> bool:
        return self.phase == "ready"

    @property
    def mic_word(self) -> str:
        """What the mic does now, in words: never "open" before the provider is ready."""
        if self.text_only:
            return "no mic"
        if not self.live:
            return "waiting"
        if self.muted:
            return "muted"
        if self.ptt != "off":
            return "talking" if self.gate_open else "closed"
        return "open mic"

    @property
    def talk_word(self) -> str:
        if not self.live:
            return {"closed": "○ ended", "reconnecting": "○ reconnecting"}.get(self.phase, "○ connecting…")
        return "● agent talking" if self.agent_talking else "○ agent listening"

    def phase_text(self) -> str:
        return self.detail or {"ready": "live"}.get(self.phase, self.phase)

    def apply(self, event: Event) -> str | None:
        """Follow one event. Returns a warning to show once (speech while muted), or None."""
        if isinstance(event, Levels):
            return self._levels(event)
        if isinstance(event, TurnLatency):
            self.latency_ms = event.ms
        elif isinstance(event, Ping) and event.ping_ms is not None:
            self.rtt_ms = float(event.ping_ms)
        elif isinstance(event, (AgentStartedTalking, AgentStoppedTalking)):
            self.talk_events = True
            self._provider_talking = isinstance(event, AgentStartedTalking)
            self.agent_talking = self._provider_talking or self._queued
        elif isinstance(event, AgentAudio):
            self._silent_levels = 0
            if not self.talk_events:
                self.agent_talking = True
        elif isinstance(event, (Interruption, PlaybackFlushed)):
            self.agent_talking = self._provider_talking = self._queued = False
        else:
            self._connection(event)
        return None

    def _connection(self, event: Event) -> None:
        if isinstance(event, Connecting):
            self.phase, self.detail = "connecting", ""
        elif isinstance(event, Connected):
            self.phase, self.detail = "connecting", "connected"
        elif isinstance(event, SessionStarted):
            self.phase, self.detail, self.failed = "ready", "", False
            self.rate = event.input_format.sample_rate
        elif isinstance(event, Reconnected):
            self.phase, self.detail = "connecting", "reconnected"
        elif isinstance(event, AudioStatus):
            if event.input_rate or event.output_rate:
                self.rate = event.input_rate or event.output_rate
            # the device names come from the app (the backend only says which are live)
            self.input_device = None if event.input is None else self.input_device
            self.output_device = None if event.output is None else self.output_device
        elif isinstance(event, ErrorEvent) and event.fatal:
            self.detail, self.failed = f"error: {event.code}", True
        elif isinstance(event, SessionEnded):
            self.detail, self.failed = f"ended: {event.reason}", bool(event.error)
        elif isinstance(event, ConnectionLost):
            self.phase, self.detail, self.failed = "reconnecting", "connection lost", True
            self.agent_talking = False
        elif isinstance(event, Reconnecting):
            self.phase, self.detail, self.failed = "reconnecting", reconnecting(event), False
        elif isinstance(event, ReconnectGaveUp):
            self.phase, self.detail, self.failed = "reconnecting", "disconnected: /reconnect to retry", True
        elif isinstance(event, SessionClosed):
            self.phase, self.agent_talking = "closed", False
            self.detail = f"failed: {event.reason}" if event.error else "closed"
            self.failed = bool(event.error)

    def _levels(self, event: Levels) -> str | None:
        self._queued = event.agent_queued_s > 0
        if event.agent_db <= SILENT_DB:
            self._silent_levels += 1
            drained = not self._queued if self.talk_events else self._silent_levels >= DRAINED_LEVELS
            if drained and not self._provider_talking:
                self.agent_talking = False
        else:
            self._silent_levels = 0
        if not (self.muted and self.live and event.mic_db > SPEECH_DB):
            self._muted_speech = 0
            self.speaking_muted = False
            return None
        self._muted_speech += 1
        if self._muted_speech >= MUTED_SPEECH_LEVELS and not self.speaking_muted:
            self.speaking_muted = True
            return "you are speaking while muted: F2 or /mute to unmute"
        return None
