from __future__ import annotations

import json
from pathlib import Path

from voicecli.protocol.events import (
    AgentAudio,
    AudioFormat,
    Interruption,
    TextDelta,
    ToolCall,
    TranscriptCorrection,
    TranscriptDelta,
    TranscriptFinal,
)
from voicecli.secrets import Secret
from voicecli.session.events import PlaybackFlushed, SessionClosed, TextSent
from voicecli.session.transcript import Transcript, TranscriptLog, to_markdown


def test_cumulative_deltas_replace_and_finals_settle() -> None:
    t = Transcript()
    t.apply(TranscriptDelta("user", "what is"))
    t.apply(TranscriptDelta("user", "what is the time"))
    t.apply(TranscriptFinal("user", "what is the time?"))
    t.apply(TranscriptDelta("agent", "It is"))
    t.apply(TranscriptDelta("agent", " noon", cumulative=False))
    assert [(x.role, x.text, x.final) for x in t.turns] == [
        ("user", "what is the time?", True), ("agent", "It is noon", False)]


def test_typed_text_echoed_by_the_provider_is_one_turn() -> None:
    t = Transcript()
    t.apply(TextSent("hello"))
    t.apply(TranscriptFinal("user", "hello"))
    assert len(t.turns) == 1 and t.turns[0].kind == "typed"


def test_interruption_marks_and_truncates_to_what_was_heard() -> None:
    t = Transcript()
    t.apply(TranscriptDelta("agent", "one two three four five six seven eight nine ten"))
    t.apply(AgentAudio(b"\x00\x00" * 16000 * 4, AudioFormat("pcm16", 16000)))  # 4 s of audio
    t.apply(Interruption())
    changed = t.apply(PlaybackFlushed(dropped_s=3.0, heard_s=1.0))
    assert changed and t.turns[0].interrupted
    assert t.turns[0].text == "one two three …"  # a quarter heard: 2.5 words, the third partly


def test_provider_truncated_final_replaces_estimate() -> None:
    t = Transcript()
    t.apply(TranscriptDelta("agent", "a long reply that was cut"))
    t.apply(Interruption())
    t.apply(TranscriptFinal("agent", "a long"))
    assert [(x.text, x.interrupted, x.final) for x in t.turns] == [("a long", True, True)]


def test_correction_tools_and_reasoning() -> None:
    t = Transcript()
    t.apply(TranscriptFinal("agent", "full reply"))
    t.apply(TranscriptCorrection("full reply", "full"))
    t.apply(TextDelta("thinking", kind="reasoning"))
    t.apply(ToolCall("c1", "lookup", {"q": "x"}))
    assert [(x.kind, x.text) for x in t.turns] == [
        ("speech", "full"), ("reasoning", "thinking"), ("tool", 'lookup({"q": "x"})')]


def test_log_writes_each_settled_turn_at_once_and_redacts(tmp_path: Path) -> None:
    Secret("sk_transcript_secret_1")
    path = tmp_path / "t.jsonl"
    t = Transcript()
    log = TranscriptLog(path, {"dialect": "atoms"})
    log.update(t.apply(TranscriptFinal("user", "my key is sk_transcript_secret_1")))
    lines = path.read_text().splitlines()  # written before the session ends
    assert len(lines) == 2
    assert json.loads(lines[1])["text"] == "my key is ***"
    log.update(t.apply(TranscriptDelta("agent", "partial")))
    assert len(path.read_text().splitlines()) == 2  # open turns are not written
    closed = SessionClosed(reason="client_requested")
    log.update(t.apply(closed))
    log.end(closed)
    records = [json.loads(x) for x in path.read_text().splitlines()]
    assert [r["type"] for r in records] == ["session", "turn", "turn", "end"]
    assert "sk_transcript_secret_1" not in path.read_text()
    assert "**You**" in to_markdown(t) and "partial" in to_markdown(t)


def test_words_after_an_interruption_start_a_new_agent_turn() -> None:
    t = Transcript()
    t.apply(TranscriptDelta("agent", "first reply"))
    t.apply(Interruption())
    t.apply(TranscriptDelta("agent", "second", cumulative=False))
    assert [(x.text, x.interrupted) for x in t.turns] == [("first reply", True), ("second", False)]
