"""Tone voice, echo brain, key checks and the voice factory."""

from __future__ import annotations

import time

import pytest

from voicecli.agent.brains.echo import EchoBrain
from voicecli.agent.config import AgentConfig
from voicecli.agent.factory import build_voice
from voicecli.agent.keys import LocalKeys
from voicecli.agent.tone import ToneSynthesizer, tone_pattern
from voicecli.audio.vad import EnergyVad


def test_tone_length_scales_with_text_and_is_audible() -> None:
    short = tone_pattern("Hi.", 16000)
    long = tone_pattern("Hi. This is a much longer sentence with many words.", 16000)
    assert len(long) > 4 * len(short) > 0
    assert len(short) % 2 == 0 and tone_pattern("", 16000) == b""
    vad = EnergyVad(16000)
    assert "speech_start" in vad.feed(short)
    assert ToneSynthesizer(8000).synthesize("Hi.") == tone_pattern("Hi.", 8000)
    assert tone_pattern("same words", 24000) == tone_pattern("same words", 24000)


async def _reply(brain: EchoBrain, text: str) -> str:
    return "".join([piece async for piece in brain.reply(text)])


async def test_echo_brain() -> None:
    brain = EchoBrain()
    assert await _reply(brain, "  hello   world ") == "You said: hello world."
    assert await _reply(brain, "really?") == "You said: really?"
    assert await _reply(brain, "") == "I heard you."
    assert brain.greeting() and brain.plays_back_audio


def test_keys() -> None:
    keys = LocalKeys("sk_a", {"agent-1"})
    assert keys.valid_key("sk_a") and not keys.valid_key("sk_b") and not keys.valid_key(None)
    assert keys.agent_exists("agent-1") and not keys.agent_exists("agent-2") and not keys.agent_exists(None)
    token = keys.issue_token({"x": 1}, 10)
    assert keys.redeem_token(token) == {"x": 1}
    assert keys.redeem_token(token) is None  # single use
    stale = keys.issue_token({}, 0.01)
    time.sleep(0.02)
    assert keys.redeem_token(stale) is None
    open_keys = LocalKeys(None, None)
    assert open_keys.valid_key(None) and open_keys.valid_key("anything") and open_keys.agent_exists("any")


def test_factory_without_speech_uses_tone_and_the_chosen_brain() -> None:
    voice = build_voice(AgentConfig(brain="echo", speech=False))
    assert voice.brain_name == "echo" and voice.synth.name == "tone"
    assert voice.recognizers is None and voice.lease() is None
    assert isinstance(voice.make_brain(), EchoBrain)


def test_factory_falls_back_to_tones_without_the_local_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from voicecli.agent import factory
    from voicecli.agent.speech import INSTALL_NOTICE

    monkeypatch.setattr(factory, "load_speech", lambda: (None, None, INSTALL_NOTICE))
    voice = build_voice(AgentConfig(brain="rules", speech=True))
    assert voice.brain_name == "rules" and voice.synth.name == "tone"
    assert voice.recognizers is None and voice.lease() is None
    assert voice.notices == [INSTALL_NOTICE]


def test_factory_builds_named_brains_and_falls_back_on_bad_options() -> None:
    voice = build_voice(AgentConfig(brain="rules", speech=False))
    assert voice.brain_name == "rules" and voice.make_brain().name == "rules"
    voice = build_voice(AgentConfig(brain="llm", speech=False))  # no url/model
    assert voice.brain_name == "echo" and any("llm" in n for n in voice.notices)
    voice = build_voice(AgentConfig(brain="llm", speech=False,
                                    brain_options={"url": "http://127.0.0.1:9", "model": "m"}))
    assert voice.brain_name == "llm" and voice.make_brain() is not voice.make_brain()


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        AgentConfig(brain="oracle")
    with pytest.raises(ValueError):
        AgentConfig(chunk_ms=5)
