"""The scripted-conversation runner's reading of a provider's events, fed directly (no
session, no socket): which events answer the current input, and when a reply is still
coming though its audio went quiet."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from voicecli.audio.scripted import ScriptedBackend
from voicecli.protocol.events import AgentAudio, AudioFormat, Interruption, TranscriptFinal
from voicecli.scenario.attribution import TurnReport
from voicecli.scenario.conversation import SmokeRunner

PCM = AudioFormat("pcm16", 16000)


def runner() -> SmokeRunner:
    session: Any = SimpleNamespace(adapter=SimpleNamespace(name="elevenlabs"))
    made = SmokeRunner(session, ScriptedBackend(), [], None)
    made.current = TurnReport(index=1, input="text", content="hi")
    return made


def test_what_comes_before_an_interruption_does_not_answer_the_input() -> None:
    """The greeting's tail, arriving after the user's text, is not the reply to it: the
    provider's interruption (the text cut the greeting) says so."""
    r = runner()
    r._take(AgentAudio(b"\0\0" * 160, PCM, turn=1))
    assert r.activity_since_input.is_set()
    r._take(Interruption(turn=1))
    assert not r.activity_since_input.is_set() and not r.reply_ended
    r._take(AgentAudio(b"\0\0" * 160, PCM, turn=2))
    assert r.activity_since_input.is_set()


def test_a_reply_is_unfinished_while_its_alignment_has_not_spoken_its_text() -> None:
    r = runner()
    text = "Your local time is nine fifteen."
    r._take(TranscriptFinal(role="agent", text=text, turn=3))
    assert not r.unspoken.pending  # no alignment seen: quiet alone decides
    r._take(AgentAudio(b"\0\0" * 160, PCM, text="Your local", turn=3))
    assert r.unspoken.pending
    r._take(AgentAudio(b"\0\0" * 160, PCM, text=" time is nine fifteen.", turn=3))
    assert not r.unspoken.pending
    r._take(TranscriptFinal(role="agent", text="A second reply.", turn=4))
    r._take(AgentAudio(b"\0\0" * 160, PCM, text="A sec", turn=4))
    assert r.unspoken.pending
    r._take(Interruption(turn=4))  # cut: the rest never comes
    assert not r.unspoken.pending
