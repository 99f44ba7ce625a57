"""The status bar: provider, agent, connection state, rate, PTT mode, latencies."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from voicecli.protocol.events import ErrorEvent, Event, Ping, SessionEnded, SessionStarted
from voicecli.session.events import AudioStatus, Connected, Connecting, TurnLatency


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

    def render(self) -> Text:
        text = Text(" ")
        parts: list[tuple[str, str]] = [
            (self.label or "…", "bold"),
            (f"agent {self.agent}" if self.agent else "", ""),
            (self.state, "bold" if self.failed else ""),
            (_khz(self.rate) if self.state not in ("starting", "connecting") else "", ""),
            (f"PTT {self.ptt}", ""),
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
            self.state = "live"
            self.rate = event.input_format.sample_rate
        elif isinstance(event, AudioStatus) and (event.input_rate or event.output_rate):
            self.rate = event.input_rate or event.output_rate
        elif isinstance(event, ErrorEvent) and event.fatal:
            self.state, self.failed = f"error: {event.code}", True
        elif isinstance(event, SessionEnded):
            self.state = f"ended: {event.reason}"
            self.failed = bool(event.error)

    def watch_failed(self, failed: bool) -> None:
        self.set_class(failed, "-failed")
