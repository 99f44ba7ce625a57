"""The microphone side of the app: text-only, mute and push-to-talk, as a mixin of
:class:`voicecli.tui.app.VoiceApp` (its message handlers stay on the app)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicecli.tui.ptt import PttMode, turn_note

if TYPE_CHECKING:
    from voicecli.tui.app import VoiceApp


def go_text_only(app: VoiceApp, reason: str | None) -> None:
    """No microphone and no speaker: say so once, hide what only audio needs."""
    if app.text_only:
        return
    app.text_only = app.state.text_only = True
    for widget in (app.mic_meter, app.agent_meter, app.mute_button, app.ptt_indicator, app.hold_button):
        widget.display = False
    app.message_input.talk_key = False
    app.refresh_bindings()
    why = (reason or "no microphone or speaker").replace("text only", "").strip(" ;()")
    app.notice("text-only: type a message and press Enter; replies show whole" + (f" ({why})" if why else ""))
    app.render_state()


def toggle_mute(app: VoiceApp) -> None:
    if app.text_only:
        app.notice("text-only: there is no microphone to mute", "warning")
        return
    session = app.current_session()
    if session is None:
        return
    session.set_muted(not session.muted)
    app.render_state()


def set_ptt_mode(app: VoiceApp, mode: PttMode) -> None:
    if app.text_only:
        app.notice("text-only: there is no microphone for push-to-talk", "warning")
        return
    if app.live is not None and app.closed is None:
        app.live.session.set_push_to_talk(mode is not PttMode.OFF)
    app.apply_gate(app.ptt.set_mode(mode))
    app.notice(f"push-to-talk: {mode.value} ({mode.describe()})")
    note_turns(app)


def note_turns(app: VoiceApp) -> None:
    """Say once what remains the provider's when push-to-talk is on."""
    if app.ptt.mode is not PttMode.OFF and app.live is not None and not app._turn_noted:
        app._turn_noted = True
        hold = app.live.session.adapter.capabilities.turn_hold
        if note := turn_note(app.settings.dialect, hold, app.live.local):
            app.notice(note)


def cycle_ptt(app: VoiceApp) -> None:
    order = list(PttMode)
    app.set_ptt_mode(order[(order.index(app.ptt.mode) + 1) % len(order)])


def talk_key(app: VoiceApp) -> None:
    if app.ptt.mode is PttMode.OFF:
        app.notice("push-to-talk is off (open mic); F3 or /ptt toggle|hold turns it on")
        return
    app.apply_gate(app.ptt.key())


def poll_ptt(app: VoiceApp) -> None:
    change, why = app.ptt.poll()
    app.apply_gate(change)
    if why == "max_hold":
        app.notice("the talk key was held for the maximum time: mic closed", "warning")


def apply_gate(app: VoiceApp, change: bool | None) -> None:
    if change is not None and app.live is not None and app.closed is None:
        app.live.session.set_gate(change)
    if app._ptt_timer is not None:
        if app.ptt.polling:
            app._ptt_timer.resume()
        else:
            app._ptt_timer.pause()
    app.render_state()


def talk_key_name(app: VoiceApp) -> str:
    """The talk key that works where the focus is: space only in the empty box."""
    box = app.message_input
    return "space" if box.has_focus and not box.value else "ctrl+space"


def render_state(app: VoiceApp) -> None:
    """Copy what the app knows into the state, then redraw the widgets from it (only when
    something they show changed: meter readings come ten times a second)."""
    state, ptt = app.state, app.ptt
    state.muted = app.live.session.muted if app.live is not None else False
    state.ptt, state.gate_open = ptt.mode.value, ptt.gate_open
    key = talk_key_name(app)
    shown = (repr(state), key, app.text_only)
    if shown == app.shown_state:
        return
    app.shown_state = shown
    app.mute_button.muted = state.muted
    talk_key = ptt.mode is not PttMode.OFF and not app.text_only
    app.message_input.talk_key = talk_key
    if app.hold_button.display != talk_key:
        app.hold_button.display = talk_key
    if app.mic_meter.state != "no mic":
        word = state.mic_word
        app.mic_meter.state = "" if word in ("open mic", "talking") else word
    app.status_bar.show()
    app.talking_indicator.show()
    app.ptt_indicator.show(key)
