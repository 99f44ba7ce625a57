"""The app against the local agent over a real WebSocket (Pilot)."""

from __future__ import annotations

import json
import math

import numpy as np
from textual import events

from voicecli.protocol.commands import CommitAudio
from voicecli.tui.widgets.ptt import HoldButton
from voicecli.tui.widgets.transcript import Bubble

from .conftest import SIZE, texts, wait_until


def tone(seconds: float, rate: int = 16000, amplitude: float = 0.4) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 300 * t) * amplitude * 32767).astype("<i2").tobytes()


async def test_typed_text_gets_the_agents_reply(make_local_app) -> None:
    app, _backend = make_local_app(speed=math.inf)  # the agent speaks on a virtual clock
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started, what="session start")
        await pilot.press(*"what is 12 + 7", "enter")
        await wait_until(pilot, lambda: any("19" in t and t.startswith("Agent") for t in texts(app)),
                         what="the agent's reply")
        assert "You (typed)  what is 12 + 7" in texts(app)
        await pilot.press(*"/quit", "enter")
        await wait_until(pilot, lambda: app.closed is not None, what="close")
    assert app.return_value == 0
    assert app.closed is not None and app.closed.reason == "client_requested"
    records = [json.loads(line) for line in app.transcript_path.read_text().splitlines()]
    assert records[0]["type"] == "session" and records[-1]["type"] == "end"
    said = [r["text"] for r in records if r["type"] == "turn"]
    assert "what is 12 + 7" in said and any("19" in s for s in said)


async def test_mute_sends_silence_frames(make_local_app) -> None:
    app, backend = make_local_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: backend.capture is not None, what="the mic")
        session = app.live.session
        await pilot.pause(0.3)
        assert session.frames_sent > 5 and session.silence_frames_sent == 0  # open mic
        await pilot.press("f2")
        assert session.muted and "muted" in str(app.query_one("#ptt").render())
        before_all, before_silent = session.frames_sent, session.silence_frames_sent
        backend.capture.say(tone(0.4))  # spoken while muted: must not reach the agent
        await pilot.pause(0.5)
        sent = session.frames_sent - before_all
        assert sent > 10
        assert session.silence_frames_sent - before_silent == sent
        await pilot.click("#mute")  # the mouse toggles it back
        assert not session.muted
        before_silent = session.silence_frames_sent
        await pilot.pause(0.3)
        assert session.silence_frames_sent == before_silent


async def test_toggle_mode_opens_and_closes_the_mic(make_local_app) -> None:
    app, backend = make_local_app(ptt="toggle")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: backend.capture is not None, what="the mic")
        session = app.live.session
        assert not session.gate_open
        await pilot.pause(0.2)
        assert session.silence_frames_sent == session.frames_sent  # closed: silence only
        await pilot.press("space")  # the message box is empty: space is the talk key
        assert session.gate_open and app.ptt.gate_open
        silent = session.silence_frames_sent
        await pilot.pause(0.3)
        assert session.silence_frames_sent == silent
        await pilot.pause(0.25)  # a tap well after the first one is a new tap
        await pilot.press("space")
        assert not session.gate_open
        assert "PTT toggle" in str(app.query_one("#ptt").render())
        await pilot.press(*"a b", "enter")  # spaces inside text are text
        await wait_until(pilot, lambda: any(t.startswith("You (typed)  a b") for t in texts(app)),
                         what="typed text with spaces")
        assert not session.gate_open


async def test_hold_mode_follows_key_repeat_and_survives_a_long_hold(make_local_app) -> None:
    app, backend = make_local_app(ptt="hold")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: backend.capture is not None, what="the mic")
        session = app.live.session
        sent = []
        original = session.submit
        session.submit = lambda command: (sent.append(command), original(command))[1]
        assert not session.gate_open
        # a held key: one press, the terminal's initial delay (500 ms), then a repeat every
        # 40 ms, for 5 s in all: key events posted on that schedule, as a terminal sends them.
        # The hold detector reads the terminal's time, so a busy machine's event-loop lag
        # (which a real terminal does not add to its repeats) cannot cut the hold.
        now = [0.0]
        app.ptt.detector.clock = lambda: now[0]
        schedule = [0.0] + [0.5 + i * 0.04 for i in range(113)]
        silent = None
        for at in schedule:
            now[0] = at
            app.post_message(events.Key("space", " "))
            # the repeats 40 ms apart in real time too (waiting for an idle process instead
            # took 0.2-0.4 s a repeat here: the embedded agent and the audio run in it)
            await pilot.pause(0.04 if at else None)
            if at == 0.0:
                assert session.gate_open
                silent = session.silence_frames_sent
            assert session.gate_open, f"the hold was cut {at:.2f} s into it"
        assert schedule[-1] >= 4.9
        assert session.silence_frames_sent - silent <= 1
        assert 0.03 <= app.ptt.detector.interval <= 0.06
        # the key goes up: no more repeats; the gate closes after a few intervals (the
        # terminal's time moves on in 20 ms steps, as the app's checks see it)
        for _ in range(100):
            if not session.gate_open:
                break
            now[0] += 0.02
            await pilot.pause(0.02)
        assert not session.gate_open and now[0] - schedule[-1] <= 0.6, now[0] - schedule[-1]
        assert any(isinstance(c, CommitAudio) for c in sent), "release did not commit the turn"
        before = session.silence_frames_sent
        await pilot.pause(0.2)
        assert session.silence_frames_sent > before


async def test_hold_button_with_the_mouse(make_local_app) -> None:
    app, backend = make_local_app(ptt="hold")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: backend.capture is not None, what="the mic")
        session = app.live.session
        assert app.query_one(HoldButton).display
        await pilot.mouse_down("#hold")
        assert session.gate_open
        await pilot.pause(1.5)  # no key repeats: a mouse hold has a real release
        assert session.gate_open
        await pilot.mouse_up("#hold")
        assert not session.gate_open


async def test_barge_in_marks_the_agent_turn_interrupted(make_local_app) -> None:
    app, backend = make_local_app(
        greeting="Hello, this is a long greeting that goes on and on so that there is time to "
                 "talk over it before it ends, one sentence after another.")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: backend.playback is not None and backend.playback.played_seconds > 0.6,
                         what="the greeting playing")
        backend.capture.say(tone(0.8))
        await wait_until(pilot, lambda: any(b.has_class("-interrupted") for b in app.query(Bubble)),
                         what="an interrupted agent turn")
        bubble = next(b for b in app.query(Bubble) if b.has_class("-interrupted"))
        assert bubble.plain.startswith("Agent") and bubble.plain.endswith("⏹ interrupted")
        assert "before it ends, one sentence after another." not in bubble.plain
        assert not app.query_one("#talking").talking
