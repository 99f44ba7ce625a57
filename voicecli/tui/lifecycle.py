"""The session's life in the app, and leaving it.

:func:`run_session` is the body of the app's session worker: it opens the session from
the factory, runs it, and posts each of its events, in order, as a
:class:`VoiceApp.SessionEvent` (a failure to open becomes a one-line ``SessionClosed``);
``SessionFinished`` follows when the session and its endpoint are closed.
:func:`session_closed` shows the end (a handshake failure lingers a moment, then the CLI
prints it). :func:`quit_session` closes the session with the provider's close message and
leaves once the worker is done (or after ``close_timeout``); a second ctrl+c, or the first
while connecting, leaves at once. The app's exit code is the failure's, the session
error's, or the quit code (130 after ctrl+c).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from voicecli.errors import EXIT_INTERRUPTED, VoicecliError
from voicecli.secrets import redact
from voicecli.session.events import SessionClosed
from voicecli.tui.ptt import PttMode

if TYPE_CHECKING:
    from voicecli.tui.app import VoiceApp


async def run_session(app: VoiceApp) -> None:
    ended = False
    try:
        async with app.factory() as live:
            live.session.gate_open = app.ptt.gate_open  # no commit: nothing was said yet
            live.session.set_push_to_talk(app.ptt.mode is not PttMode.OFF)
            app.post_message(app.SessionOpened(live))
            runner = asyncio.create_task(live.session.run(), name="talk-session")
            try:
                async for event in live.session.events():
                    app.post_message(app.SessionEvent(event))
                    ended = ended or isinstance(event, SessionClosed)
            finally:
                if not runner.done():
                    runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
    except VoicecliError as exc:
        if not ended:
            app.post_message(app.SessionEvent(SessionClosed(
                reason=exc.kind, error=redact(str(exc)), exit_code=exc.exit_code)))
    except Exception as exc:  # noqa: BLE001 - one line in the UI, never a traceback
        if not ended:
            error = redact(f"internal error: {exc.__class__.__name__}: {exc}")
            app.post_message(app.SessionEvent(SessionClosed(reason="internal", error=error, exit_code=1)))
    finally:
        app.post_message(app.SessionFinished())


def session_closed(app: VoiceApp, event: SessionClosed) -> None:
    app.closed = event
    app.recording = None  # the session finished its recording
    app.conversation.end(event)
    if event.error and not app.started:
        app.failure = event  # shown here a moment, then printed on the normal screen
        app.transcript_view.notice(f"cannot connect: {event.error}", "error")
        app.set_timer(app.settings.failure_linger, lambda: exit_now(app))
        return
    code = f" (close code {event.close_code})" if event.close_code is not None else ""
    if event.error:
        detail = event.reason if app.conversation.has_error(event.error) else event.error
        app.transcript_view.notice(f"session ended: {detail}{code}", "error")
    else:
        app.transcript_view.notice(f"session ended: {event.reason}{code}")
    if app._leaving:
        return
    app.transcript_view.notice("press ctrl+c to leave")


def quit_session(app: VoiceApp, code: int = 0) -> None:
    """Close the session with the provider's close message, wait for the worker, leave.
    A second ctrl+c leaves at once, and so does the first one while connecting. With text
    selected, ctrl+c copies it instead."""
    if code == EXIT_INTERRUPTED and app.copy_selection():
        return
    app.quit_code = app.quit_code or code
    if not app.started and app.closed is None:
        app.left_connecting = True
        exit_now(app)
        return
    if app._leaving or app._finished or app.live is None:
        exit_now(app)
        return
    if app.closed is not None:
        leave(app)
        return
    app.state.detail = "closing"
    app.render_state()
    app.live.session.close()
    leave(app)


def leave(app: VoiceApp) -> None:
    app._leaving = True
    if app._finished:
        exit_now(app)
    else:
        app.set_timer(app.settings.close_timeout, lambda: exit_now(app))


def exit_now(app: VoiceApp) -> None:
    if app._worker is not None and not app._finished:
        app._worker.cancel()
    app.exit(exit_code(app))


def exit_code(app: VoiceApp) -> int:
    if app.failure is not None:
        return app.failure.exit_code
    if app.closed is not None and app.closed.error:
        return app.closed.exit_code
    return app.quit_code
