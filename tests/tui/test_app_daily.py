"""`voicecli talk` as a daily driver, with scripted sessions: copy, focus and scrolling,
history and paste, what the status tells while connecting, the provider's limits, the
event pane, volume and gain, the mic test and the layout at small sizes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual import events
from textual.selection import Selection

from voicecli.protocol.base import Capabilities
from voicecli.protocol.commands import SendText
from voicecli.protocol.events import AudioFormat, SessionStarted, TranscriptFinal
from voicecli.session.events import Connecting, Levels
from voicecli.tui import TalkSettings, create_app
from voicecli.tui.widgets.transcript import Bubble

from .conftest import SIZE, submit, texts, wait_until
from .fakes import FakeSession, fake_factory

FMT = AudioFormat("pcm16", 16000)
STARTED = SessionStarted(FMT, FMT, "sess-1")
REPLY = TranscriptFinal("agent", "The answer is nineteen.")


class Link:
    volume = 1.0
    gain = 1.0


class AudioSession(FakeSession):
    """A fake with the session's audio link (volume, gain) and a WebSocket ping."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.link = Link()
        self.pings = 0

    async def alive(self, timeout: float) -> bool:
        self.pings += 1
        await asyncio.sleep(0.01)
        return True


async def test_ctrl_c_with_a_selection_copies_and_without_one_quits() -> None:
    session = FakeSession([STARTED, TranscriptFinal("user", "what is twelve plus seven"), REPLY])
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.query(".body")) == 2, what="the turns")
        body = app.query(Bubble).last().query_one(".body")
        app.screen.selections = {body: Selection(None, None)}
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.clipboard == "The answer is nineteen."
        assert app.is_running and "copied the selection (23 characters) to the clipboard" in texts(app)
        assert not app.screen.selections  # the selection is done with
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.is_running, what="the app to quit")


async def test_copy_key_and_command_use_the_terminal_clipboard() -> None:
    session = FakeSession([STARTED, TranscriptFinal("user", "hi"), REPLY])
    app = create_app(fake_factory(session), TalkSettings())
    copies: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.copy_to_clipboard = lambda text: (copies.append(text), setattr(app, "_clipboard", text))  # type: ignore[method-assign]
        await wait_until(pilot, lambda: len(app.query(Bubble)) == 2, what="the turns")
        await pilot.press("f5")
        await submit(pilot, "/copy all")
        await submit(pilot, "/copy everything")
        assert copies == ["The answer is nineteen.", "You: hi\nAgent: The answer is nineteen."]
        assert "/copy takes nothing (the last reply) or all (the conversation)" in texts(app)


async def test_history_and_multi_line_paste() -> None:
    session = FakeSession([STARTED], capabilities=Capabilities(text_input=True))
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started)
        for line in ("first", "second"):
            await submit(pilot, line)
        await pilot.press("d", "up")
        assert app.message_input.value == "second"
        await pilot.press("up", "up")
        assert app.message_input.value == "first"
        await pilot.press("down", "down")
        assert app.message_input.value == "d"  # back to what was being typed
        app.message_input.value = ""
        app.message_input.post_message(events.Paste("line one\nline two\n"))
        await pilot.pause()
        assert app.message_input.value == "line one ⏎ line two"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("escape")
        app.post_message(events.Paste("pasted\nafter escape"))  # as the terminal sends it; focus outside the box
        await pilot.pause()
        assert app.focused is app.message_input and app.message_input.value == "pasted ⏎ after escape"
        await pilot.press("enter")
        await pilot.pause()
        app.message_input.post_message(events.Paste("one line"))
        await pilot.pause()
        assert app.message_input.value == "one line"  # once
        await pilot.press("enter")
        await pilot.pause()
        sent = [c.text for c in session.commands if isinstance(c, SendText)]
        assert sent == ["first", "second", "line one\nline two", "pasted\nafter escape", "one line"]


async def test_sending_while_scrolled_up_scrolls_to_the_reply() -> None:
    script: list[Any] = [STARTED]
    for n in range(30):
        script += [TranscriptFinal("user", f"question {n}"), TranscriptFinal("agent", f"answer {n}")]
    session = FakeSession(script, capabilities=Capabilities(text_input=True))
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        view = app.transcript_view
        await wait_until(pilot, lambda: len(app.query(Bubble)) == 60, what="the turns")
        await pilot.pause(0.2)
        view.scroll_home(animate=False)
        await pilot.pause()
        assert view.scroll_y == 0 and view.max_scroll_y > 0
        await submit(pilot, "and now?")
        session.emit(TranscriptFinal("agent", "the newest reply"))
        await wait_until(pilot, lambda: any("the newest reply" in t for t in texts(app)), what="the reply")
        await pilot.pause(0.2)
        assert view.is_vertical_scroll_end


async def test_while_connecting_nothing_says_listening_or_open_mic() -> None:
    session = FakeSession([Connecting("wss://api.example", "atoms")])
    app = create_app(fake_factory(session, label="wss://api.example"), TalkSettings(profile="work"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.phase == "connecting", what="connecting")
        await pilot.pause()
        shown = " ".join(str(w.render()) for w in (app.talking_indicator, app.ptt_indicator, app.status_bar))
        assert "listening" not in shown and "open mic" not in shown
        assert "connecting" in shown and "wss://api.example (atoms, profile work)" in shown
        session.emit(STARTED)
        await wait_until(pilot, lambda: app.state.live, what="ready")
        await pilot.pause()
        assert "agent listening" in str(app.talking_indicator.render())
        assert "open mic" in str(app.ptt_indicator.render())


async def test_token_pcm_says_once_that_spoken_turns_show_no_words() -> None:
    session = FakeSession([STARTED], capabilities=Capabilities(text_input=False, transcripts=False))
    app = create_app(fake_factory(session), TalkSettings(dialect="token-pcm"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started)
        session.emit(STARTED)  # a reconnect: not said again
        await pilot.pause(0.1)
        notes = [t for t in texts(app) if "sends no text" in t]
        assert notes == ["token-pcm sends no text: spoken turns show no words here"]


async def test_a_round_trip_replaced_before_it_ran_leaves_no_coroutine_unawaited() -> None:
    """The timer and the session's start can ask for a round trip in the same tick: the
    second worker cancels the first before it ran, which must leave nothing behind for
    Python's "coroutine ... was never awaited" warning (it reached the log file)."""
    import gc
    import warnings

    from voicecli.tui import follow

    session = AudioSession([STARTED])
    app = create_app(fake_factory(session), TalkSettings())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.started)
            follow.start_rtt(app)
            follow.start_rtt(app)  # the first one is cancelled before it ran
            await wait_until(pilot, lambda: app.state.rtt_ms is not None, what="the round trip")
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)], [str(w.message) for w in caught]


async def test_rec_indicator_round_trip_and_per_turn_latency() -> None:
    from voicecli.session.events import TurnLatency

    session = AudioSession([STARTED, TurnLatency(640.0, "speech")])
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.rtt_ms is not None, what="the round trip")
        assert session.pings >= 1 and "rtt " in str(app.status_bar.render())
        assert "reply: first audio after 640 ms" in texts(app)
        assert "REC" not in str(app.status_bar.render())
        app.recording = Path("/tmp/rec")
        await pilot.pause()
        assert "● REC" in str(app.status_bar.render())
        app.recording = None
        await pilot.pause()
        assert "REC" not in str(app.status_bar.render())


async def test_event_pane_volume_gain_and_mic_test(monkeypatch: Any) -> None:
    from voicecli.secrets import register

    register("sk_secret_123456")
    session = AudioSession([STARTED, TranscriptFinal("agent", "key sk_secret_123456 here")])
    app = create_app(fake_factory(session), TalkSettings())
    monkeypatch.setattr("voicecli.tui.slash_audio.TEST_S", 1.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started)
        assert not app.event_pane.display
        await pilot.press("f6")
        assert app.event_pane.display
        lines = list(app.event_pane.lines)
        assert any(line.split(" ", 1)[1].startswith("SessionStarted") for line in lines)
        assert any("TranscriptFinal" in line for line in lines)
        assert not any("sk_secret_123456" in line for line in lines)
        await submit(pilot, "/events")
        assert not app.event_pane.display
        await submit(pilot, "/volume 50")
        await submit(pilot, "/gain 150%")
        await submit(pilot, "/volume loud")
        assert (session.link.volume, session.link.gain) == (0.5, 1.5)
        await pilot.press("f8", "f9")
        assert (session.link.volume, session.link.gain) == (0.6, 1.4)
        assert "/volume: expected a percentage (0-400), got 'loud'" in texts(app)
        await submit(pilot, "/mictest")
        # the readings count once the test has started (before it, they are only meter levels)
        await wait_until(pilot, lambda: app.mic_test.running, what="the mic test to start")
        for db in (-70.0, -20.0, -25.0):
            session.emit(Levels(mic_db=db, agent_db=-100.0, mic_open=True))
        await wait_until(pilot, lambda: any(t.startswith("mic test: peak") for t in texts(app)), what="the result")
        assert "mic test: peak -20 dB, speech heard 67% of the time" in texts(app)


async def test_small_terminal_gives_the_rows_to_the_conversation() -> None:
    session = FakeSession([STARTED])
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=(50, 14)) as pilot:
        await wait_until(pilot, lambda: app.started)
        await pilot.pause()
        assert not app.query_one("#meters").display or app.query_one("#meters").region.height == 0
        assert app.transcript_view.region.height >= 11
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert app.query_one("#meters").region.height == 1


async def test_mute_button_keeps_its_place_and_nothing_is_cut_at_80_columns() -> None:
    session = FakeSession([STARTED])
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.started)
        await pilot.pause()
        before = app.mute_button.region
        await pilot.click("#mute")
        await pilot.pause()
        assert session.muted and app.mute_button.region == before
        assert before.right <= 80
        await pilot.click("#mute")  # the second click lands on it too
        await pilot.pause()
        assert not session.muted
        await pilot.press("f3")
        await pilot.pause()
        hint = str(app.ptt_indicator.render())
        assert len(hint) <= app.ptt_indicator.region.width and hint.endswith("to talk")


async def test_agent_talking_without_talk_events_follows_its_audio() -> None:
    """ElevenLabs sends no talk events: the indicator follows the audio and the speaker."""
    from voicecli.protocol.events import AgentAudio

    session = FakeSession([STARTED])
    app = create_app(fake_factory(session), TalkSettings(dialect="elevenlabs"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started)
        session.emit(AgentAudio(data=bytes(640), format=FMT))
        session.emit(Levels(mic_db=-70.0, agent_db=-12.0, mic_open=True))
        await wait_until(pilot, lambda: "agent talking" in str(app.talking_indicator.render()), what="talking")
        for _ in range(3):
            session.emit(Levels(mic_db=-70.0, agent_db=-100.0, mic_open=True))
        await wait_until(pilot, lambda: "agent listening" in str(app.talking_indicator.render()),
                         what="listening once the speaker drained")


async def test_the_cursor_stops_blinking_when_nobody_types_and_blinks_again_at_a_key(monkeypatch: Any) -> None:
    """An idle session redraws nothing: the cursor blinks ``blink_s`` after the last key,
    then stays lit; a key (or a paste) sets it blinking again."""
    from voicecli.tui.widgets.input import MessageInput

    monkeypatch.setattr(MessageInput, "blink_s", 1.0)  # long beside a key press, however loaded the machine
    session = FakeSession([STARTED], capabilities=Capabilities(text_input=True))
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        box = app.message_input
        await wait_until(pilot, lambda: app.started)
        await wait_until(pilot, lambda: not box.cursor_blink, timeout=5)  # the blink from the start ends
        assert box._cursor_visible  # steady, not left hidden half-way through a blink
        await pilot.press("h")
        assert box.cursor_blink and box.value == "h"
        await wait_until(pilot, lambda: not box.cursor_blink, timeout=5)
        box.post_message(events.Paste("there"))
        await pilot.pause()
        assert box.cursor_blink and box.value == "hthere"
