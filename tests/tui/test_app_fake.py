"""The app's behaviour with scripted sessions: commands, notices, errors, quitting."""

from __future__ import annotations

import json

from voicecli.errors import ConfigError
from voicecli.protocol.base import Capabilities
from voicecli.protocol.commands import Close, ContextUpdate, Interrupt, SendText
from voicecli.protocol.events import (
    AgentStartedTalking,
    AudioFormat,
    Ping,
    SessionEnded,
    SessionStarted,
    TranscriptDelta,
)
from voicecli.session.events import AudioStatus, SessionClosed, TurnLatency
from voicecli.tui import TalkSettings, create_app
from voicecli.tui.ptt import PttMode
from voicecli.tui.widgets.help import HelpScreen
from voicecli.tui.widgets.transcript import Bubble

from .conftest import SIZE, submit, texts, wait_until
from .fakes import FakeSession, fake_factory

FMT = AudioFormat("pcm16", 16000)
STARTED = SessionStarted(FMT, FMT, "sess-1")


async def test_typed_text_refused_by_a_provider_without_text_input(tmp_path) -> None:
    session = FakeSession([STARTED], capabilities=Capabilities(text_input=False))
    app = create_app(fake_factory(session), TalkSettings(transcript_path=tmp_path / "t.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started)
        await pilot.press(*"hello", "enter")
        await pilot.pause()
        assert "this provider does not accept typed text" in texts(app)
        assert not any(isinstance(c, SendText) for c in session.commands)


async def test_slash_commands(tmp_path) -> None:
    session = FakeSession([STARTED, TranscriptDelta("agent", "Hi, I am here.")],
                          capabilities=Capabilities(context_update=True, client_interrupt=True))
    app = create_app(fake_factory(session), TalkSettings(agent="a1"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started)
        target = tmp_path / "out" / "chat.md"
        for line in (f"/export {target}", "/context the user is in Paris", "/record /tmp/x",
                     "/ptt hold", "/dance", "/mute", "//slash text"):
            await submit(pilot, line)
        shown = texts(app)
        assert f"conversation saved to {target}" in shown
        markdown = target.read_text()
        assert markdown.startswith("# voicecli talk — a1") and "**Agent**" in markdown and "Hi, I am here." in markdown
        assert ContextUpdate("the user is in Paris") in session.commands
        assert "recording is not available" in shown
        assert app.ptt.mode is PttMode.HOLD and not session.gate_open
        assert any(t.startswith("unknown command /dance") for t in shown)
        assert session.muted
        assert SendText("/slash text") in session.commands
        await submit(pilot, "/help")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_context_refused_and_interrupt_marks_the_turn() -> None:
    session = FakeSession([STARTED, AgentStartedTalking(), TranscriptDelta("agent", "A long answer")])
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.talking_indicator.talking)
        await submit(pilot, "/context x")
        assert "this provider does not accept context updates" in texts(app)
        await pilot.press("f4")
        await pilot.pause()
        assert Interrupt() in session.commands
        bubble = app.query(Bubble).last()
        assert bubble.has_class("-interrupted") and bubble.plain.endswith("⏹ interrupted")
        assert not app.talking_indicator.talking


async def test_status_bar_latency_and_round_trip() -> None:
    session = FakeSession([STARTED, TurnLatency(812.4, "text"), Ping(event_id=3, ping_ms=47)])
    app = create_app(fake_factory(session, label="wss://api.example"), TalkSettings(agent="agent-7"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.state.rtt_ms is not None)
        line = str(app.status_bar.render())
        for part in ("wss://api.example", "agent agent-7", "live", "16 kHz", "PTT off", "reply 812 ms",
                     "rtt 47 ms"):
            assert part in line


async def test_handshake_failure_exits_with_its_code(tmp_path) -> None:
    failure = SessionClosed(reason="auth", error="the atoms server refused the credentials (HTTP 401)",
                            exit_code=4)
    session = FakeSession([], end=failure)
    app = create_app(fake_factory(session), TalkSettings(transcript_path=tmp_path / "t.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: not app.is_running, what="exit")
    assert app.return_value == 4
    assert app.failure == failure
    assert not (tmp_path / "t.jsonl").exists()


async def test_factory_errors_exit_with_their_code() -> None:
    def factory():
        raise ConfigError("no API key: set the environment variable SMALLEST_API_KEY")

    app = create_app(factory, TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: not app.is_running, what="exit")
    assert app.return_value == 3
    assert "SMALLEST_API_KEY" in app.failure.error


async def test_mid_session_error_stays_on_screen_then_exits_with_its_code(tmp_path) -> None:
    session = FakeSession(
        [STARTED, 0.05, SessionEnded(reason="connection lost", close_code=1006,
                                     error="connection closed unexpectedly (code 1006)")],
        end=SessionClosed(reason="connection lost", close_code=1006,
                          error="connection closed unexpectedly (code 1006)", exit_code=7))
    app = create_app(fake_factory(session), TalkSettings(transcript_path=tmp_path / "t.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.closed is not None)
        await pilot.pause(0.2)
        assert app.is_running
        shown = texts(app)
        assert "⚠ connection closed unexpectedly (code 1006)" in shown
        assert "session ended: connection lost (close code 1006)" in shown
        assert app.state.failed and "failed" in app.state.phase_text()
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.is_running, what="exit")
    assert app.return_value == 7
    assert '"type": "end"' in (tmp_path / "t.jsonl").read_text()


async def test_ctrl_c_closes_the_session_cleanly() -> None:
    session = FakeSession([STARTED])
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started)
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.is_running, what="exit")
    assert session.commands == [Close()]
    assert app.return_value == 130 and app.closed.reason == "client_requested"  # ctrl+c: interrupted


async def test_missing_audio_devices_are_shown() -> None:
    session = FakeSession([STARTED, AudioStatus(input=None, output="sounddevice")])
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.mic_meter.state == "no mic")
        await pilot.pause()
        assert "no microphone: going on without it" in texts(app)
        assert app.mic_meter.region.width >= len(str(app.mic_meter.render())) and \
            str(app.mic_meter.render()).endswith("no mic")
        assert not app.text_only


async def test_no_audio_at_all_is_text_only() -> None:
    session = FakeSession([STARTED, AudioStatus(input=None, output=None)])
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.text_only)
        await pilot.pause()
        assert "text-only: type a message and press Enter; replies show whole (no microphone or speaker)" \
            in texts(app)
        assert not app.mic_meter.display and not app.mute_button.display


async def test_keys_outside_and_inside_the_message_box() -> None:
    """Printable keys type into the box wherever the focus is; only F-keys and ctrl keys act."""
    session = FakeSession([STARTED])
    app = create_app(fake_factory(session), TalkSettings(ptt=PttMode.TOGGLE))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started)
        assert "tap space to talk" in str(app.ptt_indicator.render())  # the empty box: space works
        await pilot.press("m")  # in the box, m is a letter
        assert app.message_input.value == "m" and not session.muted
        assert "tap ctrl+space to talk" in str(app.ptt_indicator.render())  # space is a space now
        await pilot.press("space")  # the box is not empty: space is a space
        assert app.message_input.value == "m " and not session.gate_open
        await pilot.press("ctrl+space")  # the talk key anywhere
        assert session.gate_open
        await pilot.press("escape")
        assert app.focused is app.transcript_view
        await pilot.press(*"i am here")  # typing after Escape still types, nothing acts
        assert app.focused is app.message_input and app.message_input.value == "m i am here"
        assert not session.muted and session.gates == [True]
        await pilot.press("f2")
        assert session.muted and "F2 to unmute" in str(app.ptt_indicator.render())
        await pilot.press("f2")
        await pilot.press("f3")
        assert app.ptt.mode is PttMode.HOLD and not session.gate_open
        await pilot.press("f3")
        assert app.ptt.mode is PttMode.OFF and session.gate_open
        assert "PTT off" in str(app.status_bar.render())


async def test_space_after_escape_is_the_talk_key_only_into_an_empty_box() -> None:
    session = FakeSession([STARTED])
    app = create_app(fake_factory(session), TalkSettings(ptt=PttMode.TOGGLE))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started)
        await pilot.press("escape", "space")
        assert session.gates == [True] and app.message_input.value == ""
        assert app.focused is app.message_input


async def test_elevenlabs_order_keeps_replies_below_their_questions(tmp_path) -> None:
    """ElevenLabs sends agent_response with the first audio chunk, the rest of the audio
    after; the reply's text may be shown before or after its audio: the pane and the saved
    transcript keep conversation order, one bubble per reply."""
    from voicecli.protocol.events import AgentAudio, Interruption, TranscriptCorrection, TranscriptFinal

    def chunk(turn: int) -> AgentAudio:
        return AgentAudio(b"\x10\x00" * 640, FMT, event_id=turn, turn=turn)

    session = FakeSession([
        STARTED, chunk(1), TranscriptFinal("agent", "Hello", event_id=1, turn=1), chunk(1), 0.05,
    ])
    path = tmp_path / "t.jsonl"
    app = create_app(fake_factory(session), TalkSettings(transcript_path=path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("Hello" in t for t in texts(app)))
        await submit(pilot, "first question")
        for event in (chunk(3), TranscriptFinal("agent", "The mock heard you.", event_id=3, turn=3), chunk(3)):
            session.emit(event)
        await wait_until(pilot, lambda: any("The mock heard you." in t for t in texts(app)))
        await submit(pilot, "second question")
        session.emit(chunk(5))  # audio first: nothing to show yet
        await pilot.pause()
        await submit(pilot, "third question")  # typed while the second reply's audio plays
        for event in (TranscriptFinal("agent", "A long answer that will be cut off", event_id=5, turn=5),
                      Interruption(event_id=5),
                      TranscriptCorrection("A long answer that will be cut off", "A long answer", 5, turn=5)):
            session.emit(event)
        await wait_until(pilot, lambda: any(t.startswith("Agent") and "A long answer" in t for t in texts(app)))
        shown = [t for t in texts(app) if t.startswith(("You", "Agent"))]
        assert [t.split()[0] for t in shown] == ["Agent", "You", "Agent", "You", "Agent", "You"], shown
        assert "Hello" in shown[0] and "first question" in shown[1] and "The mock heard you." in shown[2]
        assert "second question" in shown[3] and "A long answer" in shown[4] and "cut off" not in shown[4]
        assert "third question" in shown[5]
        await pilot.press("ctrl+c")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    latest = {r["index"]: r for r in records if r["type"] == "turn"}
    ordered = [latest[i] for i in sorted(latest)]
    assert [(r["role"], r["text"]) for r in ordered] == [
        ("agent", "Hello"), ("user", "first question"), ("agent", "The mock heard you."),
        ("user", "second question"), ("agent", "A long answer"), ("user", "third question")]
    assert ordered[4]["interrupted"] and ordered[2]["audio_s"] > 0.07
