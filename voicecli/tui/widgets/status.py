"""The status bar: one line rendered from :class:`voicecli.tui.state.TalkState`.

Most important first (a narrow terminal leaves out what does not fit whole): the endpoint with its dialect and
profile, the connection phase, REC, the rate, push-to-talk, half-duplex, the latencies and
the devices."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from voicecli.tui.state import TalkState


def _khz(rate: int | None) -> str:
    return f"{rate / 1000:g} kHz" if rate else ""


def _ms(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"  # a loopback is well under 1 ms


def status_parts(state: TalkState) -> list[tuple[str, str]]:
    """(text, style) pairs, empty texts left out by the renderer."""
    where = ", ".join(x for x in (state.dialect, f"profile {state.profile}" if state.profile else "") if x)
    devices = " · ".join(f"{what} {name}" for what, name in (("mic", state.input_device),
                                                              ("spk", state.output_device)) if name)
    return [
        ((state.label or "…") + (f" ({where})" if where else ""), "bold"),
        (f"agent {state.agent}" if state.agent else "", ""),
        (state.phase_text(), "bold" if state.failed else ""),
        ("● REC" if state.recording is not None else "", "bold reverse"),
        ("text-only" if state.text_only else _khz(state.rate) if state.live else "", ""),
        ("" if state.text_only else f"PTT {state.ptt}", ""),
        ("muted" if state.muted and not state.text_only else "", "bold"),
        ("half-duplex" if state.half_duplex and not state.text_only else "", ""),
        (f"reply {state.latency_ms:.0f} ms" if state.latency_ms is not None else "reply – ms", ""),
        (f"rtt {_ms(state.rtt_ms)} ms" if state.rtt_ms is not None else "", ""),
        (devices, ""),
    ]


class StatusBar(Widget):
    """One line; :meth:`show` redraws it from the state."""

    DEFAULT_CSS = "StatusBar { height: 1; }"

    def __init__(self, state: TalkState, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.state = state

    def show(self) -> None:
        self.set_class(self.state.failed, "-failed")
        self.refresh()

    def render(self) -> Text:
        """The parts that fit whole, in order (a part too long for what is left is left out)."""
        text = Text(" ", no_wrap=True, overflow="ellipsis")
        room = self.size.width or 10_000
        first = True
        for value, style in status_parts(self.state):
            sep = "" if first else " │ "
            if not value or (not first and text.cell_len + len(sep) + len(value) > room):
                continue
            text.append(sep)
            text.append(value, style=style)
            first = False
        return text
