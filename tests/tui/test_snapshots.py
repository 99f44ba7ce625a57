"""Snapshots of the main screen, from scripted sessions (stable, no network)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from voicecli.protocol.base import Capabilities
from voicecli.tui import TalkSettings, create_app
from voicecli.tui.ptt import PttMode
from voicecli.tui.widgets import meters

from . import scripts
from .conftest import wait_until
from .fakes import FakeSession, fake_factory

SIZE = (100, 32)
LABEL = "wss://api.smallest.ai"


@pytest.fixture(autouse=True)
def meters_at_one_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    """The level meters throttle their redraws by the clock: here the whole script plays at
    one instant (as it does on an idle machine), so a loaded machine draws the same screen."""
    monkeypatch.setattr(meters, "time", SimpleNamespace(monotonic=lambda: 1000.0))


def app_for(script: list[Any], *, end: Any = None, ptt: PttMode = PttMode.OFF,
            text_only: str | None = None) -> Any:
    # push-to-talk holds the turn (as on the local agent): the screens without the one-time
    # note on what remains the provider's (test_app_ptt_turns covers that note)
    session = FakeSession(script, end=end, capabilities=Capabilities(text_input=True, turn_hold="local"))
    settings = TalkSettings(dialect="atoms", agent="demo", ptt=ptt, text_only=text_only)
    return create_app(fake_factory(session, LABEL, local=True), settings)


def settled(count: int) -> Any:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        app.message_input.cursor_blink = False  # a steady cursor: the screen does not depend on when
        await wait_until(pilot, lambda: len(app.transcript_view.children) >= count, what="the script")
        await pilot.pause(0.2)

    return run_before


def test_idle(snap_compare: Any) -> None:
    assert snap_compare(app_for(scripts.IDLE), terminal_size=SIZE, run_before=settled(0))


def test_mid_conversation(snap_compare: Any) -> None:
    app = app_for(scripts.CONVERSATION, ptt=PttMode.TOGGLE)
    assert snap_compare(app, terminal_size=SIZE, run_before=settled(9))


def test_error_state(snap_compare: Any) -> None:
    app = app_for(scripts.ERROR, end=scripts.ERROR_END)
    assert snap_compare(app, terminal_size=SIZE, run_before=settled(5))


def test_help_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await settled(0)(pilot)
        await pilot.press("f1")
        await pilot.pause(0.1)

    assert snap_compare(app_for(scripts.IDLE), terminal_size=(110, 40), run_before=run_before)


def test_mid_conversation_no_color(snap_compare: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(scripts.CONVERSATION, ptt=PttMode.HOLD)
    assert app.no_color
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(9))


def test_mid_conversation_80x24(snap_compare: Any) -> None:
    # nothing cut: the mute button, the push-to-talk hint; wrapped replies indented
    app = app_for(scripts.CONVERSATION, ptt=PttMode.TOGGLE)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(9))


def test_mid_conversation_120x36(snap_compare: Any) -> None:
    app = app_for(scripts.CONVERSATION, ptt=PttMode.HOLD)
    assert snap_compare(app, terminal_size=(120, 36), run_before=settled(9))


def test_small_terminal_50x14(snap_compare: Any) -> None:
    # the conversation gets the rows: the controls collapse
    app = app_for(scripts.CONVERSATION)
    assert snap_compare(app, terminal_size=(50, 14), run_before=settled(9))


def test_event_pane(snap_compare: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("voicecli.tui.widgets.events.stamp", lambda: "12:00:00")

    async def run_before(pilot: Any) -> None:
        await settled(9)(pilot)
        await pilot.press("f6")
        await pilot.pause(0.1)

    app = app_for(scripts.CONVERSATION)
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_text_only_small(snap_compare: Any) -> None:
    # known before connecting (talk --no-audio)
    app = app_for(scripts.TEXT_ONLY, text_only="text only (--no-audio)")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(4))


def test_text_only_large(snap_compare: Any) -> None:
    # found when the session opens its audio (no devices)
    assert snap_compare(app_for(scripts.TEXT_ONLY), terminal_size=(120, 36), run_before=settled(4))
