"""The status bar: provider, agent, connection state (reconnecting: the wait and the
attempt), rate, PTT mode, latencies."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from voicecli.protocol.events import ErrorEvent, Event, Ping, SessionEnded, SessionStarted
from voicecli.session.events import (
    AudioStatus,
    Connected,
    Connecting,
    ConnectionLost,
    ReconnectGaveUp,
    Reconnecting,
    TurnLatency,
)


def seconds(value: float) -> str:
    """A wait as people say it: "2 s", "0.5 s"."""
    return f"{value:.0f} s" if value >= 1 else f"{value:.2g} s"


def reconnecting(event: Reconnecting) -> str:
    return f"reconnecting in {seconds(event.delay_s)}… attempt {event.attempt}/{event.attempts}"


def _khz(rate: int | None) -> str:
    if not rate:
        return "text only"
    return f"{rate / 1000:g} kHz"


class StatusBar(Widget):
    """One line; every field is a reactive the app sets from session events."""

    DEFAULT_CSS = "StatusBar { height: 1; }"

    label: reactive[str] = reactive("")
    agent: reactive[str] = reactive("")
    state: reactive[str] = reactive("starting")
    rate: reactive[int | None] = reactive(None)
    ptt: reactive[str] = reactive("off")
    latency_ms: reactive[float | None] = reactive(None)
    rtt_ms: reactive[float | None] = reactive(None)
    failed: reactive[bool] = reactive(False)
    text_only: reactive[bool] = reactive(False)

    def render(self) -> Text:
        text = Text(" ")
        parts: list[tuple[str, str]] = [
            (self.label or "…", "bold"),
            (f"agent {self.agent}" if self.agent else "", ""),
            (self.state, "bold" if self.failed else ""),
            ("text-only" if self.text_only else
             _khz(self.rate) if self.state not in ("starting", "connecting") else "", ""),
            ("" if self.text_only else f"PTT {self.ptt}", ""),
            (f"reply {self.latency_ms:.0f} ms" if self.latency_ms is not None else "reply – ms", ""),
            (f"rtt {self.rtt_ms:.0f} ms" if self.rtt_ms is not None else "", ""),
        ]
        first = True
        for value, style in parts:
            if not value:
                continue
            if not first:
                text.append(" │ ")
            text.append(value, style=style)
            first = False
        return text

    def apply(self, event: Event) -> None:
        """Take what the bar shows from one session event."""
        if isinstance(event, TurnLatency):
            self.latency_ms = event.ms
        elif isinstance(event, Ping) and event.ping_ms is not None:
            self.rtt_ms = event.ping_ms
        elif isinstance(event, Connecting):
            self.state = "connecting"
        elif isinstance(event, Connected):
            self.state = "connected"
        elif isinstance(event, SessionStarted):
            self.state, self.failed = "live", False
            self.rate = event.input_format.sample_rate
        elif isinstance(event, AudioStatus) and (event.input_rate or event.output_rate):
            self.rate = event.input_rate or event.output_rate
        elif isinstance(event, ErrorEvent) and event.fatal:
            self.state, self.failed = f"error: {event.code}", True
        elif isinstance(event, SessionEnded):
            self.state = f"ended: {event.reason}"
            self.failed = bool(event.error)
        elif isinstance(event, ConnectionLost):
            self.state, self.failed = "connection lost", True
        elif isinstance(event, Reconnecting):
            self.state, self.failed = reconnecting(event), False
        elif isinstance(event, ReconnectGaveUp):
            self.state, self.failed = "disconnected: /reconnect to retry", True

    def watch_failed(self, failed: bool) -> None:
        self.set_class(failed, "-failed")
