"""Where keys go, and copying, for :class:`voicecli.tui.app.VoiceApp`.

The focus model: a printable key pressed anywhere on the main screen goes to the message
box (so typing after Escape still types); only bindings on F-keys and ctrl keys act from
anywhere. Escape leaves the box so the arrow and page keys scroll the conversation; Tab or
any printable key comes back. Space is the talk key only in the empty box (ctrl+space
anywhere).

Copy: ctrl+c with a selection (in the conversation or in the box) copies it instead of
quitting; F5 copies the selection or else the last reply; ``/copy`` the last reply,
``/copy all`` the whole conversation. The clipboard is the terminal's (OSC 52), through
Textual's ``copy_to_clipboard``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.binding import Binding, BindingType

from voicecli.session.transcript import Transcript

if TYPE_CHECKING:
    from voicecli.tui.app import VoiceApp

#: F-keys and ctrl keys act anywhere; printable keys are left to the message box
BINDINGS: list[BindingType] = [
    Binding("ctrl+c", "quit_session(130)", "quit", priority=True),  # 130: interrupted
    Binding("ctrl+q", "quit_session", "quit", show=False, priority=True),
    Binding("f1", "help", "help"),
    Binding("f2", "toggle_mute", "mute"),
    Binding("f3", "cycle_ptt", "PTT"),
    Binding("f4", "interrupt", "interrupt"),
    Binding("f5", "copy", "copy"),
    Binding("f6", "toggle_events", "events"),
    Binding("f7", "level('volume', -0.1)", "volume-", show=False),
    Binding("f8", "level('volume', 0.1)", "volume+", show=False),
    Binding("f9", "level('gain', -0.1)", "gain-", show=False),
    Binding("f10", "level('gain', 0.1)", "gain+", show=False),
    Binding("ctrl+@,ctrl+space", "talk_key", "talk", show=False, priority=True),
    Binding("escape", "leave_input", "leave box", show=False),
]

_WHO = {"user": "You", "agent": "Agent"}


def last_reply(transcript: Transcript) -> str | None:
    for turn in reversed(transcript.visible):
        if turn.role == "agent" and turn.kind in ("speech", "typed") and turn.text.strip():
            return turn.text
    return None


def conversation_text(transcript: Transcript) -> str:
    lines = []
    for turn in transcript.visible:
        if turn.text.strip():
            lines.append(f"{_WHO.get(turn.role, 'voicecli')}: {turn.text}")
    return "\n".join(lines)


def route_key(app: VoiceApp, event: events.Key) -> None:
    """A key no widget or binding took: a printable one types into the box."""
    box = app.message_input
    if box.has_focus or app.screen is not app.screen_stack[0] or not event.is_printable:
        return
    if event.character is None or not box.display:
        return
    event.stop()
    event.prevent_default()
    box.focus()
    if event.key == "space" and box.talk_key and not box.value:
        app.post_message(box.TalkKey())
        return
    box.cursor_position = len(box.value)
    box.insert_text_at_cursor(event.character)


def route_paste(app: VoiceApp, event: events.Paste) -> None:
    """A paste no widget took (the focus was outside the box) goes into the box."""
    box = app.message_input
    if box.has_focus or app.screen is not app.screen_stack[0] or not box.display:
        return
    event.stop()
    box.focus()
    box.cursor_position = len(box.value)
    box.post_message(events.Paste(event.text))


def selected_text(app: VoiceApp) -> str | None:
    box = app.message_input
    if box.has_focus and not box.selection.is_empty:
        return box.selected_text or None
    # Textual 2.0 ends a whole widget's selection with a newline the text does not have (newer ones do not)
    return (app.screen.get_selected_text() or "").removesuffix("\n") or None


def copy_text(app: VoiceApp, text: str, what: str) -> None:
    app.copy_to_clipboard(text)
    app.notice(f"copied {what} ({len(text)} characters) to the clipboard")


def copy_selection(app: VoiceApp) -> bool:
    text = selected_text(app)
    if not text:
        return False
    copy_text(app, text, "the selection")
    app.screen.clear_selection()
    return True


def copy(app: VoiceApp) -> None:
    if not app.copy_selection():
        app.copy_command("")


def copy_command(app: VoiceApp, argument: str) -> None:
    """``/copy`` (the last reply) and ``/copy all`` (the conversation)."""
    arg = argument.strip().lower()
    if arg not in ("", "all", "last"):
        app.notice("/copy takes nothing (the last reply) or all (the conversation)", "warning")
        return
    if arg == "all":
        text = conversation_text(app.transcript)
        if not text:
            app.notice("nothing to copy yet", "warning")
            return
        copy_text(app, text, "the conversation")
        return
    reply = last_reply(app.transcript)
    if reply is None:
        app.notice("no reply to copy yet", "warning")
        return
    copy_text(app, reply, "the last reply")
