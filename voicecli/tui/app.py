"""The ``voicecli talk`` app. The session runs in a Textual worker; each session event
becomes a :class:`VoiceApp.SessionEvent` message whose handler sets widget reactives.
Nothing here waits on audio or the network. A lost connection is reconnected by the session
itself (:mod:`voicecli.tui.reconnecting` words it); typed text waits for the new connection."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker

from voicecli.errors import VoicecliError
from voicecli.protocol.commands import Interrupt, SendText
from voicecli.protocol.events import Event, Interruption, SessionStarted
from voicecli.secrets import redact
from voicecli.session.events import AudioStatus, Levels, Notice, SessionClosed
from voicecli.tui.base import QuietCrashApp
from voicecli.tui.binding import LiveSession, SessionFactory, SessionLike, TalkSettings
from voicecli.tui.commands import SlashError, parse_slash, unescape
from voicecli.tui.conversation import Conversation
from voicecli.tui.ptt import PttMode, PushToTalk, turn_note
from voicecli.tui.reconnecting import ReconnectView
from voicecli.tui.slash import run_slash
from voicecli.tui.widgets.controls import MuteButton
from voicecli.tui.widgets.help import HelpScreen
from voicecli.tui.widgets.input import MessageInput
from voicecli.tui.widgets.meters import LevelMeter, TalkingIndicator
from voicecli.tui.widgets.ptt import HoldButton, PttIndicator
from voicecli.tui.widgets.status import StatusBar
from voicecli.tui.widgets.transcript import TranscriptView

PTT_POLL_S = 0.02


class VoiceApp(QuietCrashApp[int]):
    """One conversation. Build it with :func:`create_app`."""

    CSS_PATH = "app.tcss"
    TITLE = "voicecli talk"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+c", "quit_session(130)", "quit", priority=True),  # 130: interrupted
        Binding("ctrl+q", "quit_session", "quit", show=False, priority=True),
        Binding("f1", "help", "help"),
        Binding("question_mark", "help", "help", show=False),
        Binding("f2", "toggle_mute", "mute"),
        Binding("m", "toggle_mute", "mute", show=False),
        Binding("f3", "cycle_ptt", "PTT mode"),
        Binding("f4", "interrupt", "interrupt"),
        Binding("ctrl+@,ctrl+space", "talk_key", "talk", show=False, priority=True),
        Binding("space", "talk_key", "talk", show=False),
        Binding("escape", "leave_input", "leave box", show=False),
        Binding("i", "focus_input", "message box", show=False),
    ]

    class SessionOpened(Message):
        """The factory gave a session (the endpoint is up; the handshake follows)."""

        def __init__(self, live: LiveSession) -> None:
            super().__init__()
            self.live = live

    class SessionEvent(Message):
        """One event from the session, in order."""

        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class SessionFinished(Message):
        """The worker is done: the session and its endpoint are closed."""

    def __init__(self, factory: SessionFactory, settings: TalkSettings) -> None:
        super().__init__()
        self.factory = factory
        self.settings = settings
        self.conversation = Conversation(settings.transcript_path)
        self.conversation.header = {"dialect": settings.dialect, "agent": settings.agent}
        self.transcript = self.conversation.transcript
        self.ptt = PushToTalk(settings.ptt)
        self.live: LiveSession | None = None
        self.started = False
        self.reconnect = ReconnectView()
        self.closed: SessionClosed | None = None
        self.failure: SessionClosed | None = None  # a handshake failure: the CLI prints it
        self._leaving = False
        self._finished = False
        self._ptt_timer: Timer | None = None
        self._turn_noted = False  # what remains the provider's under push-to-talk was said
        self._worker: Worker[None] | None = None
        self.text_only = False  # no audio either way: no meters, mute or push-to-talk
        self.recording: Path | None = None  # the WAV being recorded (shown as REC)
        if settings.recorder is not None:
            self.recording = settings.recorder.current
            self.conversation.summary.recordings = settings.recorder.files  # grows with /record
        self.quit_code = 0  # 130 when the user pressed ctrl+c
        self.left_connecting = False  # quit before the session started: left at once

    def compose(self) -> ComposeResult:
        # kept as attributes: session events may still arrive while the app shuts down
        # (the log must get them), when the screen no longer answers queries
        self.transcript_view = TranscriptView(id="transcript")
        self.talking_indicator = TalkingIndicator(id="talking")
        self.mic_meter = LevelMeter("mic", id="mic-meter")
        self.agent_meter = LevelMeter("agent", id="agent-meter")
        self.mute_button = MuteButton(id="mute")
        self.ptt_indicator = PttIndicator(id="ptt")
        self.hold_button = HoldButton(id="hold")
        self.message_input = MessageInput(placeholder="Type a message and press Enter · /help · F1 keys",
                                          id="message")
        self.status_bar = StatusBar(id="status")
        yield self.transcript_view
        with Horizontal(id="meters"):
            yield self.talking_indicator
            yield self.mic_meter
            yield self.agent_meter
            yield self.mute_button
        with Horizontal(id="ptt-row"):
            yield self.ptt_indicator
            yield self.hold_button
        yield self.message_input
        yield self.status_bar
        yield Footer()

    def on_mount(self) -> None:
        self.transcript_view.border_title = "conversation"
        status = self.status_bar
        status.agent = self.settings.agent or ""
        status.label = self.settings.dialect
        self._show_ptt()
        if self.settings.text_only is not None:
            self._go_text_only(self.settings.text_only)
        self._ptt_timer = self.set_interval(PTT_POLL_S, self._poll_ptt, pause=True)
        for line in self.settings.notices:
            self.transcript_view.notice(line)
        self.message_input.focus()
        self._worker = self._run_session()

    # ---- the session worker ----------------------------------------------------------------

    @work(exclusive=True, group="session", exit_on_error=False)
    async def _run_session(self) -> None:
        ended = False
        try:
            async with self.factory() as live:
                live.session.gate_open = self.ptt.gate_open  # no commit: nothing was said yet
                live.session.set_push_to_talk(self.ptt.mode is not PttMode.OFF)
                self.post_message(self.SessionOpened(live))
                runner = asyncio.create_task(live.session.run(), name="talk-session")
                try:
                    async for event in live.session.events():
                        self.post_message(self.SessionEvent(event))
                        ended = ended or isinstance(event, SessionClosed)
                finally:
                    if not runner.done():
                        runner.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await runner
        except VoicecliError as exc:
            if not ended:
                self.post_message(self.SessionEvent(SessionClosed(
                    reason=exc.kind, error=redact(str(exc)), exit_code=exc.exit_code)))
        except Exception as exc:  # noqa: BLE001 - one line in the UI, never a traceback
            if not ended:
                error = redact(f"internal error: {exc.__class__.__name__}: {exc}")
                self.post_message(self.SessionEvent(SessionClosed(reason="internal", error=error, exit_code=1)))
        finally:
            self.post_message(self.SessionFinished())

    @on(SessionOpened)
    def _opened(self, message: SessionOpened) -> None:
        self.live = message.live
        self.status_bar.label = message.live.label
        self.status_bar.agent = message.live.agent or self.status_bar.agent
        self._note_turns()

    @on(SessionFinished)
    def _finished_worker(self) -> None:
        self._finished = True
        if self._leaving:
            self._exit_now()

    @on(SessionEvent)
    def _session_event(self, message: SessionEvent) -> None:
        event = message.event
        self._show(event)
        self.status_bar.apply(event)
        self.talking_indicator.apply(event)
        line = self.reconnect.apply(event)
        if line is not None:
            self.notice(*line)
        if isinstance(event, Levels):
            self.mic_meter.set_level(event.mic_db)
            self.agent_meter.set_level(event.agent_db)
        elif isinstance(event, SessionStarted):
            if not self.started:  # a reconnect shows its marker in the conversation instead
                how = "type" if self.text_only else "speak or type"
                self.notice(f"connected: {how} a message · F1 for keys and commands")
            self.started = True
            self._open_log()
        elif isinstance(event, AudioStatus) and event.input is None and event.output is None:
            self._go_text_only(event.notice)
        elif isinstance(event, AudioStatus):
            if event.input is None:
                self.mic_meter.state = "no mic"
            missing = [name for name, dev in (("microphone", event.input), ("speaker", event.output)) if not dev]
            if event.notice:
                self.notice(event.notice)
            elif missing:
                self.notice(f"no {' or '.join(missing)}: going on without it", "warning")
        elif isinstance(event, Notice):
            self.notice(event.text, event.level)
        elif isinstance(event, SessionClosed):
            self._session_closed(event)

    def _session_closed(self, event: SessionClosed) -> None:
        self.closed = event
        self.recording = None  # the session finished its recording
        status = self.status_bar
        self.conversation.end(event)
        if event.error and not self.started:
            self.failure = event  # shown here a moment, then printed on the normal screen
            self.transcript_view.notice(f"cannot connect: {event.error}", "error")
            self.set_timer(self.settings.failure_linger, self._exit_now)
            return
        code = f" (close code {event.close_code})" if event.close_code is not None else ""
        if event.error:
            status.state, status.failed = f"failed: {event.reason}", True
            detail = event.reason if self.conversation.has_error(event.error) else event.error
            self.transcript_view.notice(f"session ended: {detail}{code}", "error")
        else:
            status.state = "closed"
            self.transcript_view.notice(f"session ended: {event.reason}{code}")
        if self._leaving:
            return
        self.transcript_view.notice("press ctrl+c to leave")

    def _show(self, event: Event) -> None:
        turns = self.conversation.apply(event)
        if turns:
            self.transcript_view.show_turns(turns)
        self._log_problem()

    def _open_log(self) -> None:
        if self.live is not None:
            self.conversation.header["endpoint"] = self.live.label
        self.conversation.open_log()
        self._log_problem()

    def _log_problem(self) -> None:
        if self.conversation.log_error:
            self.notice(self.conversation.log_error, "warning")
            self.conversation.log_error = None

    @property
    def transcript_path(self) -> Path | None:
        return self.conversation.path

    # ---- typed text and commands -----------------------------------------------------------

    @on(MessageInput.Submitted)
    def _submitted(self, event: MessageInput.Submitted) -> None:
        event.input.clear()
        try:
            command = parse_slash(event.value)
        except SlashError as exc:
            self.notice(str(exc), "warning")
            return
        if command is None:
            text = unescape(event.value)
            if text:
                self.send_text(text)
        else:
            run_slash(self, command)

    def send_text(self, text: str) -> None:
        session = self.current_session()
        if session is None:
            return
        if not session.adapter.capabilities.text_input:
            self.notice("this provider does not accept typed text", "warning")
            return
        session.submit(SendText(text))

    def reconnect_now(self) -> None:
        self.notice(*self.reconnect.request(self.live.session if self.live else None, self.closed is not None))

    def notice(self, text: str, level: str = "info") -> None:
        self.transcript_view.notice(text, level)

    def current_session(self) -> SessionLike | None:
        """The live session, or None (with a notice) when there is none to talk to."""
        if self.live is None or self.closed is not None:
            self.notice("not connected" if self.closed is None else "the session has ended", "warning")
            return None
        if self.reconnect.active:
            self.notice("not connected: reconnecting (/reconnect to try now)", "warning")
            return None
        return self.live.session

    # ---- text-only, mute and push-to-talk ---------------------------------------------------

    def _go_text_only(self, reason: str | None) -> None:
        """No microphone and no speaker: say so once, hide what only audio needs."""
        if self.text_only:
            return
        self.text_only = True
        for widget in (self.mic_meter, self.agent_meter, self.mute_button, self.ptt_indicator, self.hold_button):
            widget.display = False
        self.message_input.talk_key = False
        self.status_bar.text_only = True
        self.refresh_bindings()
        why = (reason or "no microphone or speaker").replace("text only", "").strip(" ;()")
        self.notice("text-only: type a message and press Enter; replies show whole" + (f" ({why})" if why else ""))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.text_only and action in ("toggle_mute", "cycle_ptt", "talk_key"):
            return False  # hidden from the footer, the key does nothing
        return True

    def action_toggle_mute(self) -> None:
        if self.text_only:
            self.notice("text-only: there is no microphone to mute", "warning")
            return
        session = self.current_session()
        if session is None:
            return
        session.set_muted(not session.muted)
        self._show_ptt()

    def set_ptt_mode(self, mode: PttMode) -> None:
        if self.text_only:
            self.notice("text-only: there is no microphone for push-to-talk", "warning")
            return
        if self.live is not None and self.closed is None:
            self.live.session.set_push_to_talk(mode is not PttMode.OFF)
        self._apply_gate(self.ptt.set_mode(mode))
        self._show_ptt()
        self.notice(f"push-to-talk: {mode.value} ({mode.describe()})")
        self._note_turns()

    def _note_turns(self) -> None:
        """Say once what remains the provider's when push-to-talk is on."""
        if self.ptt.mode is not PttMode.OFF and self.live is not None and not self._turn_noted:
            self._turn_noted = True
            hold = getattr(self.live.session.adapter.capabilities, "turn_hold", "none")
            if note := turn_note(self.settings.dialect, hold, self.live.local):
                self.notice(note)

    def action_cycle_ptt(self) -> None:
        order = list(PttMode)
        self.set_ptt_mode(order[(order.index(self.ptt.mode) + 1) % len(order)])

    def action_talk_key(self) -> None:
        if self.ptt.mode is PttMode.OFF:
            self.notice("push-to-talk is off (open mic); F3 or /ptt toggle|hold turns it on")
            return
        self._apply_gate(self.ptt.key())

    @on(MessageInput.TalkKey)
    def _talk_key_in_box(self) -> None:
        self._apply_gate(self.ptt.key())

    @on(HoldButton.Pressed)
    @on(HoldButton.Released)
    def _hold_button(self, message: HoldButton.Pressed | HoldButton.Released) -> None:
        self._apply_gate(self.ptt.button(isinstance(message, HoldButton.Pressed)))

    @on(MuteButton.Clicked)
    def _mute_clicked(self) -> None:
        self.action_toggle_mute()

    def _poll_ptt(self) -> None:
        change, why = self.ptt.poll()
        self._apply_gate(change)
        if why == "max_hold":
            self.notice("the talk key was held for the maximum time: mic closed", "warning")

    def _apply_gate(self, change: bool | None) -> None:
        if change is not None and self.live is not None and self.closed is None:
            self.live.session.set_gate(change)
        if self._ptt_timer is not None:
            if self.ptt.polling:
                self._ptt_timer.resume()
            else:
                self._ptt_timer.pause()
        self._show_ptt()

    def _show_ptt(self) -> None:
        indicator, ptt = self.ptt_indicator, self.ptt
        muted = self.live.session.muted if self.live is not None else False
        indicator.mode, indicator.gate_open, indicator.muted = ptt.mode, ptt.gate_open, muted
        self.mute_button.muted = muted
        self.hold_button.display = self.message_input.talk_key = ptt.mode is not PttMode.OFF and not self.text_only
        self.status_bar.ptt = ptt.mode.value
        if self.mic_meter.state != "no mic":
            self.mic_meter.state = "muted" if muted else ("" if ptt.gate_open else "closed")

    def action_interrupt(self) -> None:
        session = self.current_session()
        if session is None:
            return
        if self.talking_indicator.talking:
            self._show(Interruption(reason="user"))
            self.talking_indicator.talking = False
        session.submit(Interrupt())
        if not session.adapter.capabilities.client_interrupt:
            self.notice("this provider has no interrupt message: playback stopped here only")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_leave_input(self) -> None:
        self.transcript_view.focus()

    def action_focus_input(self) -> None:
        self.message_input.focus()

    def action_quit_session(self, code: int = 0) -> None:
        """Close the session with the provider's close message, wait for the worker, leave.
        A second ctrl+c leaves at once, and so does the first one while connecting."""
        self.quit_code = self.quit_code or code
        if not self.started and self.closed is None:
            self.left_connecting = True
            self._exit_now()
            return
        if self._leaving or self._finished or self.live is None:
            self._exit_now()
            return
        if self.closed is not None:
            self._leave()
            return
        self.status_bar.state = "closing"
        self.live.session.close()
        self._leave()

    def _leave(self) -> None:
        self._leaving = True
        if self._finished:
            self._exit_now()
        else:
            self.set_timer(self.settings.close_timeout, self._exit_now)

    def _exit_now(self) -> None:
        if self._worker is not None and not self._finished:
            self._worker.cancel()
        self.exit(self.exit_code)

    @property
    def exit_code(self) -> int:
        if self.failure is not None:
            return self.failure.exit_code
        if self.closed is not None and self.closed.error:
            return self.closed.exit_code
        return self.quit_code


def create_app(factory: SessionFactory, settings: TalkSettings | None = None) -> VoiceApp:
    """The one way to build the app, for the CLI and the tests alike."""
    return VoiceApp(factory, settings or TalkSettings())
