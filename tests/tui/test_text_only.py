"""Text-only is a mode of its own: with no audio (``--no-audio``, no devices) talk asks the
provider for a text-only session where it has one, the UI says "text-only" once and hides
the meters, mute and push-to-talk, and replies show whole, never cut by the next message.
Pilot runs of the app with talk's own session factory and the embedded local agent."""

from __future__ import annotations

import time
from typing import Any

import pytest

from voicecli.audio.base import NullBackend
from voicecli.cli.config import resolve
from voicecli.cli.talk import session_factory, text_only_session
from voicecli.session.options import SessionOptions
from voicecli.tui import TalkSettings, create_app

from .conftest import SIZE, submit, texts, wait_until


def target_for(dialect: str, mode: str | None = None) -> Any:
    target = resolve(profile=None, url=None, dialect=dialect, agent=None, sample_rate=None, variables={},
                     config_file=None)
    target.mode = mode
    return target


@pytest.mark.parametrize(("dialect", "mode"), [("atoms", "chat"), ("elevenlabs", "text")])
def test_no_audio_asks_the_provider_for_text_only(dialect: str, mode: str) -> None:
    target, backend = text_only_session(target_for(dialect), NullBackend("text only (--no-audio)"))
    assert target.mode == mode and isinstance(backend, NullBackend)


def test_a_text_mode_needs_no_devices_and_voice_modes_stay() -> None:
    sound = object()
    target, backend = text_only_session(target_for("atoms", "chat"), sound)  # type: ignore[arg-type]
    assert isinstance(backend, NullBackend) and backend.notice == "text only (atoms mode chat)"
    target, backend = text_only_session(target_for("atoms"), sound)  # type: ignore[arg-type]
    assert target.mode is None and backend is sound
    target, backend = text_only_session(target_for("voiceagent"), NullBackend())  # no text mode: as is
    assert target.mode is None


@pytest.mark.parametrize("dialect", ["atoms", "elevenlabs"])
async def test_no_audio_is_a_text_only_session_in_the_ui(dialect: str, tmp_path: Any) -> None:
    target, backend = text_only_session(target_for(dialect), NullBackend("text only (--no-audio)"))
    settings = TalkSettings(dialect=dialect, transcript_path=tmp_path / "t.jsonl")
    app = create_app(session_factory(target, backend, SessionOptions()), settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.text_only, timeout=20, what="the text-only session")
        for widget in ("#mic-meter", "#agent-meter", "#mute", "#ptt", "#hold"):
            assert not app.query_one(widget).display, widget
        assert "PTT" not in str(app.status_bar.render()) and "text-only" in str(app.status_bar.render())
        await pilot.press("f2", "f3")  # no mic: the keys do nothing
        assert not app.live.session.muted and app.ptt.mode.value == "off"
        # two messages back to back: the first reply is not cut, both come whole and in order
        sent = time.monotonic()
        await submit(pilot, "help")
        await submit(pilot, "what is 12 + 7")
        await wait_until(pilot, lambda: any("19" in t for t in texts(app)), timeout=10, what="both replies")
        assert time.monotonic() - sent < 5  # not paced at speaking speed
        agent = [t for t in app.transcript.turns if t.role == "agent" and t.kind == "speech"]
        assert not any(t.interrupted for t in agent)
        assert "19" in agent[-1].text and len(agent[-2].text) > 60, [t.text for t in agent]
        said = texts(app)
        assert sum("text-only" in line for line in said) == 1, said
        assert not any("speak" in line for line in said if "text-only" in line)


@pytest.mark.parametrize(("backend", "speech"), [(NullBackend("text only (--no-audio)"), False), (None, True)])
async def test_the_embedded_agent_loads_its_speech_models_only_for_a_session_with_audio(
        backend: Any, speech: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text-only session never hears the agent: its embedded agent (a process of its
    own) starts with a tone voice and no recogniser, which is quicker; a session with audio
    gets the speech models."""
    from voicecli.agent import child
    from voicecli.audio.scripted import ScriptedBackend

    built: list[bool] = []
    real = child.agent_process

    def agent_process(**options: Any) -> Any:
        built.append(options["speech"])
        return real(**{**options, "speech": False})  # what was asked for is what counts

    monkeypatch.setattr(child, "agent_process", agent_process)
    backend = backend or ScriptedBackend()
    async with session_factory(target_for("atoms"), backend, SessionOptions())() as live:
        assert live.local
    assert built == [speech]
