"""The ``voicecli talk`` app. The session runs in a Textual worker
(:mod:`voicecli.tui.lifecycle`, which also shows its end and leaves the app); each session event
becomes a :class:`VoiceApp.SessionEvent` message whose handler folds it into the
conversation and into :class:`voicecli.tui.state.TalkState`, then redraws the widgets from
that state (widgets never read protocol events). Nothing here waits on audio or the
network. A lost connection is reconnected by the session itself
(:mod:`voicecli.tui.reconnecting` words it); typed text waits for the new connection.

Focus: printable keys always type into the message box (:mod:`voicecli.tui.keys`); only
F-keys and ctrl keys act from anywhere, and space is the talk key only in the empty box."""

from __future__ import annotations

from pathlib import Path

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.filter import Monochrome, NoColor
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker

from voicecli.protocol.commands import Interrupt, SendText
from voicecli.protocol.events import Event, Interruption
from voicecli.session.events import Levels, SessionClosed
from voicecli.tui import follow, keys, lifecycle, mic
from voicecli.tui.base import QuietCrashApp
from voicecli.tui.binding import LiveSession, SessionFactory, SessionLike, TalkSettings
from voicecli.tui.commands import SlashCommand, SlashError, parse_slash, unescape
from voicecli.tui.conversation import Conversation
from voicecli.tui.mictest import MicTest
from voicecli.tui.ptt import PttMode, PushToTalk
from voicecli.tui.reconnecting import ReconnectView
from voicecli.tui.slash import run_slash
from voicecli.tui.slash_audio import run_audio, step_level
from voicecli.tui.state import TalkState
from voicecli.tui.widgets.controls import MuteButton
from voicecli.tui.widgets.events import EventPane
from voicecli.tui.widgets.help import HelpScreen
from voicecli.tui.widgets.input import MessageInput, restore_breaks
from voicecli.tui.widgets.meters import LevelMeter, TalkingIndicator
from voicecli.tui.widgets.ptt import HoldButton, PttIndicator
from voicecli.tui.widgets.status import StatusBar
from voicecli.tui.widgets.transcript import TranscriptView

PTT_POLL_S = 0.02
RTT_EVERY_S = 5.0  # how often the round trip is measured (a WebSocket ping)
COMPACT_ROWS = 20  # below this many rows the controls collapse


class VoiceApp(QuietCrashApp[int]):
    """One conversation. Build it with :func:`create_app`."""

    CSS_PATH = "app.tcss"
    TITLE = "voicecli talk"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = keys.BINDINGS

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
        if self.no_color:  # Textual's own NO_COLOR mode paints in greys: emit no colour at all
            self._filters = [NoColor() if isinstance(f, Monochrome) else f for f in self._filters]
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
        self.state = TalkState(label="", dialect=settings.dialect, profile=settings.profile,
                               agent=settings.agent or "")
        self.mic_test = MicTest()
        self.shown_state: tuple[object, ...] = ()  # what the widgets show now (mic.render_state)
        self._widgets_ready = False  # the widgets exist (on_mount ran)
        if settings.recorder is not None:
            self.recording = settings.recorder.current  # the WAV being recorded (shown as REC)
            self.conversation.summary.recordings = settings.recorder.files  # grows with /record
        self.quit_code = 0  # 130 when the user pressed ctrl+c
        self.left_connecting = False  # quit before the session started: left at once

    @property
    def recording(self) -> Path | None:
        """The WAV recording in progress (``/record`` sets it), shown as ``● REC``."""
        return self.state.recording

    @recording.setter
    def recording(self, path: Path | None) -> None:
        self.state.recording = path
        if self._widgets_ready and self.status_bar.is_mounted:
            self.render_state()

    def compose(self) -> ComposeResult:
        # kept as attributes: session events may still arrive while the app shuts down
        # (the log must get them), when the screen no longer answers queries
        self.transcript_view = TranscriptView(id="transcript")
        self.talking_indicator = TalkingIndicator(self.state, id="talking")
        self.mic_meter = LevelMeter("mic", id="mic-meter")
        self.agent_meter = LevelMeter("agent", id="agent-meter")
        self.mute_button = MuteButton(id="mute")
        self.ptt_indicator = PttIndicator(self.state, id="ptt")
        self.hold_button = HoldButton(id="hold")
        self.message_input = MessageInput(placeholder="Type a message and press Enter · /help · F1 keys",
                                          id="message", select_on_focus=False)
        self.status_bar = StatusBar(self.state, id="status")
        self.event_pane = EventPane(id="events")
        yield self.transcript_view
        yield self.event_pane
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
        self._widgets_ready = True
        self.transcript_view.border_title = "conversation"
        self.event_pane.border_title = "events"
        self.render_state()
        if self.settings.text_only is not None:
            mic.go_text_only(self, self.settings.text_only)
        self._ptt_timer = self.set_interval(PTT_POLL_S, lambda: mic.poll_ptt(self), pause=True)
        self.set_interval(RTT_EVERY_S, lambda: follow.start_rtt(self))
        for line in self.settings.notices:
            self.transcript_view.notice(line)
        self.message_input.focus()
        self._worker = self._run_session()

    # ---- the session worker ----------------------------------------------------------------

    @work(exclusive=True, group="session", exit_on_error=False)
    async def _run_session(self) -> None:
        await lifecycle.run_session(self)

    @on(SessionOpened)
    def _opened(self, message: SessionOpened) -> None:
        self.live = message.live
        self.state.label = message.live.label
        self.state.agent = message.live.agent or self.state.agent
        self.state.half_duplex = message.live.session.options.half_duplex
        mic.note_turns(self)
        self.render_state()

    @on(SessionFinished)
    def _finished_worker(self) -> None:
        self._finished = True
        if self._leaving:
            self._exit_now()

    @on(SessionEvent)
    def _session_event(self, message: SessionEvent) -> None:
        event = message.event
        self._show(event)
        if not isinstance(event, Levels):
            self.event_pane.add(event)
        warning = self.state.apply(event)
        if warning is not None:
            self.notice(warning, "warning")
        line = self.reconnect.apply(event)
        if line is not None:
            self.notice(*line)
        if isinstance(event, SessionClosed):
            self._session_closed(event)
        else:
            follow.show_event(self, event)
        self.render_state()  # redraws only what changed

    def _session_closed(self, event: SessionClosed) -> None:
        lifecycle.session_closed(self, event)

    def _show(self, event: Event) -> None:
        turns = self.conversation.apply(event)
        if turns:
            self.transcript_view.show_turns(turns)
        self._log_problem()

    def open_log(self) -> None:
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
        self.message_input.remember(event.value)
        try:
            command = parse_slash(event.value)
        except SlashError as exc:
            self.notice(str(exc), "warning")
            return
        if command is None:
            text = restore_breaks(unescape(event.value))
            if text:
                self.transcript_view.follow()  # sent while scrolled up: show the reply
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

    # ---- keys, buttons and timers ---------------------------------------------------------

    # the mic controls (voicecli.tui.mic) and the key routing and copying (voicecli.tui.keys)
    def action_toggle_mute(self) -> None:
        mic.toggle_mute(self)

    def set_ptt_mode(self, mode: PttMode) -> None:
        mic.set_ptt_mode(self, mode)

    def action_cycle_ptt(self) -> None:
        mic.cycle_ptt(self)

    def action_talk_key(self) -> None:
        mic.talk_key(self)

    def apply_gate(self, change: bool | None) -> None:
        mic.apply_gate(self, change)

    def render_state(self) -> None:
        mic.render_state(self)

    def copy_selection(self) -> bool:
        return keys.copy_selection(self)

    def action_copy(self) -> None:
        keys.copy(self)

    def copy_command(self, argument: str) -> None:
        keys.copy_command(self, argument)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.text_only and action in ("toggle_mute", "cycle_ptt", "talk_key", "level"):
            return False  # hidden from the footer, the key does nothing
        return True

    def on_key(self, event: events.Key) -> None:
        keys.route_key(self, event)

    def on_paste(self, event: events.Paste) -> None:
        keys.route_paste(self, event)

    @on(MessageInput.TalkKey)
    def _talk_key_in_box(self) -> None:
        self.apply_gate(self.ptt.key())

    @on(MessageInput.Changed)
    def _box_changed(self) -> None:
        self.render_state()  # the hint names the talk key that works now

    @on(HoldButton.Pressed)
    @on(HoldButton.Released)
    def _hold_button(self, message: HoldButton.Pressed | HoldButton.Released) -> None:
        self.apply_gate(self.ptt.button(isinstance(message, HoldButton.Pressed)))

    @on(MuteButton.Clicked)
    def _mute_clicked(self) -> None:
        self.action_toggle_mute()

    def on_descendant_focus(self) -> None:
        self.render_state()

    def on_resize(self, event: events.Resize) -> None:
        # a short terminal gives its rows to the conversation: the controls collapse
        self.screen_stack[0].set_class(event.size.height < COMPACT_ROWS, "-compact")

    def action_interrupt(self) -> None:
        session = self.current_session()
        if session is None:
            return
        if self.state.agent_talking:
            self._show(Interruption(reason="user"))
            self.state.agent_talking = False
            self.render_state()
        session.submit(Interrupt())
        if not session.adapter.capabilities.client_interrupt:
            self.notice("this provider has no interrupt message: playback stopped here only")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_leave_input(self) -> None:
        self.transcript_view.focus()

    def action_level(self, name: str, step: float) -> None:
        if not self.text_only:
            step_level(self, "volume" if name == "volume" else "gain", step)

    def run_audio(self, command: SlashCommand) -> bool:
        return run_audio(self, command)

    def action_toggle_events(self) -> None:
        pane = self.event_pane
        pane.show(not pane.display)
        self.notice("event pane shown (F6 or /events hides it)" if pane.display else "event pane hidden")

    def action_quit_session(self, code: int = 0) -> None:
        """Close the session and leave (:func:`voicecli.tui.lifecycle.quit_session`)."""
        lifecycle.quit_session(self, code)

    def _exit_now(self) -> None:
        lifecycle.exit_now(self)

    @property
    def exit_code(self) -> int:
        return lifecycle.exit_code(self)


def create_app(factory: SessionFactory, settings: TalkSettings | None = None) -> VoiceApp:
    """The one way to build the app, for the CLI and the tests alike."""
    return VoiceApp(factory, settings or TalkSettings())
