"""What each session event shows besides the conversation and the state: meters, notices,
text-only, the provider's limits, the device names, and the measured round trip."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from voicecli.protocol.events import Event, SessionStarted
from voicecli.session.events import AudioStatus, Levels, Notice, TurnLatency
from voicecli.tui import mic
from voicecli.tui.slash_audio import show_device_names

if TYPE_CHECKING:
    from voicecli.tui.app import VoiceApp


def show_event(app: VoiceApp, event: Event) -> None:
    if isinstance(event, Levels):
        app.mic_meter.set_level(event.mic_db)
        app.agent_meter.set_level(event.agent_db)
        app.mic_test.level(event.mic_db)
    elif isinstance(event, SessionStarted):
        if not app.started:  # a reconnect shows its marker in the conversation instead
            how = "type" if app.text_only else "speak or type"
            app.notice(f"connected: {how} a message · F1 for keys and commands")
            note_limits(app)
            start_rtt(app)
        app.started = True
        app.open_log()
    elif isinstance(event, TurnLatency):
        what = "first words" if event.source == "text" and app.text_only else "first audio"
        app.notice(f"reply: {what} after {event.ms:.0f} ms")
    elif isinstance(event, AudioStatus) and event.input is None and event.output is None:
        mic.go_text_only(app, event.notice)
    elif isinstance(event, AudioStatus):
        app.run_worker(show_device_names(app, event.input is not None, event.output is not None),
                       group="device-names", exclusive=True, exit_on_error=False)
        if event.input is None:
            app.mic_meter.state = "no mic"
        missing = [name for name, dev in (("microphone", event.input), ("speaker", event.output)) if not dev]
        if event.notice:
            app.notice(event.notice)
        elif missing:
            app.notice(f"no {' or '.join(missing)}: going on without it", "warning")
    elif isinstance(event, Notice):
        app.notice(event.text, event.level)


def note_limits(app: VoiceApp) -> None:
    """Say once what this provider does not send (token-pcm: no words for spoken turns)."""
    caps = app.live.session.adapter.capabilities if app.live is not None else None
    if caps is not None and not caps.transcripts:
        app.notice(f"{app.settings.dialect} sends no text: spoken turns show no words here", "warning")


def start_rtt(app: VoiceApp) -> None:
    """Measure the round trip in a worker, in place of one still running. The worker gets
    the coroutine function, not a coroutine: one it cancels before it ran leaves nothing
    un-awaited behind (Python's warning would reach the log)."""
    async def measure() -> None:
        await measure_rtt(app)

    app.run_worker(measure, group="rtt", exclusive=True, exit_on_error=False)  # type: ignore[arg-type]  # Textual types work as Never-returning


async def measure_rtt(app: VoiceApp) -> None:
    """The round trip of a WebSocket ping: every provider answers those, where only some
    send a ping figure of their own (ElevenLabs' ``ping_ms``)."""
    session = app.live.session if app.live is not None else None
    if session is None or not app.state.live or app.closed is not None:
        return
    start = time.monotonic()
    with contextlib.suppress(Exception):
        if await session.alive(2.0) and app.state.live:
            app.state.rtt_ms = (time.monotonic() - start) * 1000
            app.render_state()
