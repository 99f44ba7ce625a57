"""How leaving sets the exit code (Pilot, a fake session that never starts): ctrl+c is 130
and leaves at once while connecting; ctrl+q and /quit are 0; a handshake error keeps its
code and is shown in the app before it leaves."""

from __future__ import annotations

import pytest

from voicecli.session.events import SessionClosed
from voicecli.tui import TalkSettings, create_app

from .conftest import SIZE, texts, wait_until
from .fakes import FakeSession, fake_factory


@pytest.mark.parametrize(("keys", "code"), [(("ctrl+c",), 130), (("ctrl+q",), 0), ((*"/quit", "enter"), 0)])
async def test_leaving_while_connecting_is_at_once(keys: tuple[str, ...], code: int) -> None:
    session = FakeSession([])  # no SessionStarted: the handshake never ends
    app = create_app(fake_factory(session), TalkSettings(close_timeout=30))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.live is not None, what="the connect to be under way")
        await pilot.press(*keys)
        await wait_until(pilot, lambda: not app.is_running, timeout=2, what="exit")  # not the close timeout
    assert app.left_connecting and app.return_value == code
    assert session.commands == []  # nothing to close: no session yet


async def test_a_handshake_error_is_shown_then_keeps_its_code() -> None:
    failed = SessionClosed(reason="auth", error="authentication failed (HTTP 401)", exit_code=4)
    app = create_app(fake_factory(FakeSession([], end=failed)), TalkSettings(failure_linger=1.0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("cannot connect: authentication failed" in t for t in texts(app)),
                         what="the error in the app")
        assert app.is_running
        await wait_until(pilot, lambda: not app.is_running, what="exit")
    assert app.return_value == 4 and app.failure is failed and not app.left_connecting
