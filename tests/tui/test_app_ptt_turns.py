"""Push-to-talk owns the turn (Pilot, the local agent over a real WebSocket): a long pause
while the key is down does not make the agent answer; the release does, once, and the
status bar's ``reply`` counts from the release."""

from __future__ import annotations

import math
import time

from tests.tui.fakes import FakeSession, fake_factory
from voicecli.audio.scripted import ScriptedBackend
from voicecli.protocol.base import Capabilities
from voicecli.protocol.commands import CommitAudio, HoldTurn
from voicecli.protocol.events import AgentAudio
from voicecli.session.events import TurnLatency
from voicecli.tui.app import create_app
from voicecli.tui.binding import TalkSettings
from voicecli.tui.ptt import PttMode, turn_note

from .conftest import SIZE, texts, wait_until
from .test_app_local import tone

SILENCE_1_5 = bytes(16000 * 2 * 3 // 2)


def agent_lines(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [t for t in texts(app) if t.startswith("Agent")]


async def test_toggle_mode_holds_the_turn_through_a_pause(make_local_app) -> None:
    # the microphone says its clips 4 times faster than real time (the agent's silence
    # detection counts samples, so 1.5 s of silence is still 1.5 s to it); the agent's reply
    # goes out on a virtual clock
    app, backend = make_local_app(ptt="toggle", backend=ScriptedBackend(speed=4.0), speed=math.inf)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: backend.capture is not None, what="the mic")
        session = app.live.session
        latencies: list[TurnLatency] = []
        audio: list[AgentAudio] = []
        original = session._emit

        def spy(event):  # type: ignore[no-untyped-def]
            if isinstance(event, TurnLatency):
                latencies.append(event)
            if isinstance(event, AgentAudio):
                audio.append(event)
            original(event)

        session._emit = spy
        await pilot.press("space")
        assert session.holding
        said = backend.capture.say(tone(0.4) + SILENCE_1_5 + tone(0.4))
        await said.wait()
        await pilot.pause(0.4)
        assert audio == [] and agent_lines(app) == [], "the agent answered while the key was down"
        before_release = time.monotonic()
        await pilot.press("space")
        assert not session.holding
        await wait_until(pilot, lambda: bool(latencies), what="the reply")
        assert latencies[0].source == "commit"
        # counted from the release, not from the end of the speech before it
        assert latencies[0].ms <= (time.monotonic() - before_release) * 1000
        await wait_until(pilot, lambda: bool(agent_lines(app)), what="the reply text")
        await pilot.pause(0.5)
        assert len({e.turn for e in audio}) == 1 and len(agent_lines(app)) == 1, agent_lines(app)


async def test_switching_push_to_talk_off_while_held_releases_the_turn(make_local_app) -> None:
    app, backend = make_local_app(ptt="toggle")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: backend.capture is not None, what="the mic")
        session = app.live.session
        sent: list[object] = []
        original = session.submit
        session.submit = lambda command: (sent.append(command), original(command))[1]
        await pilot.press("space")
        assert session.holding and sent == [HoldTurn()]
        app.set_ptt_mode(PttMode.OFF)
        assert not session.holding and not session.push_to_talk and sent[-1] == CommitAudio()
        assert session.gate_open  # open mic


async def test_what_remains_the_providers_is_said_once() -> None:
    session = FakeSession(capabilities=Capabilities(turn_hold="none"))
    app = create_app(fake_factory(session), TalkSettings(dialect="token-pcm", ptt=PttMode.TOGGLE))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.live is not None, what="the session")
        app.set_ptt_mode(PttMode.HOLD)
        await pilot.pause()
        notes = [t for t in texts(app) if "finds the end of your turn itself" in t]
        assert len(notes) == 1 and "token-pcm" in notes[0]
        assert session.push_to_talk


def test_turn_note_per_capability() -> None:
    assert turn_note("voiceagent", "always", local=False) is None
    assert turn_note("atoms", "local", local=True) is None
    assert turn_note("atoms", "local", local=False) is not None
    assert turn_note("perfvoice", "none", local=True) is not None
