"""The transcript across connections: provider turn ids restart on a new connection and
never land on an older turn; the reply cut by a lost connection is interrupted."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from voicecli.protocol.events import AgentAudio, AudioFormat, TranscriptDelta, TranscriptFinal
from voicecli.session.events import ConnectionLost, Reconnected, SessionClosed, TextSent
from voicecli.session.transcript import Transcript, TranscriptLog

PCM = AudioFormat("pcm16", 16000)


def audio(turn: int | None, ms: int = 100) -> AgentAudio:
    return AgentAudio(data=bytes(32 * ms), format=PCM, turn=turn)


def rows(transcript: Transcript) -> list[tuple[str, str, bool, bool]]:
    return [(t.role, t.text, t.final, t.interrupted) for t in transcript.visible]


def test_a_reply_cut_by_the_drop_is_interrupted_and_the_ids_start_again(tmp_path: Path) -> None:
    transcript = Transcript()
    log = TranscriptLog(tmp_path / "t.jsonl")
    for event in [TextSent("help"), TranscriptDelta("agent", "I can tell", turn=1), audio(1),
                  ConnectionLost("the connection was lost", None, mid_reply=True), Reconnected(1),
                  TextSent("again"), TranscriptDelta("agent", "Twelve", turn=1), audio(1),
                  TranscriptFinal("agent", "Twelve plus seven is nineteen.", turn=1)]:
        log.update(transcript.apply(event))
    assert rows(transcript) == [
        ("user", "help", True, False),
        ("agent", "I can tell", True, True),
        ("system", "reconnected", True, False),
        ("user", "again", True, False),
        ("agent", "Twelve plus seven is nineteen.", True, False),
    ]
    log.end(SessionClosed(reason="closed"))
    records = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    cut = [r for r in records if r.get("text") == "I can tell"]
    assert cut and all(r["interrupted"] is True for r in cut)


def test_a_finished_reply_is_settled_not_interrupted() -> None:
    transcript = Transcript()
    for event in [TextSent("hi"), audio(4), TranscriptFinal("agent", "Hello!", turn=4),
                  ConnectionLost("lost", 1011, mid_reply=False), Reconnected(2),
                  TextSent("more"), audio(4), TranscriptFinal("agent", "Sure.", turn=4)]:
        transcript.apply(event)
    assert rows(transcript)[1] == ("agent", "Hello!", True, False)
    assert rows(transcript)[-1] == ("agent", "Sure.", True, False)
    assert rows(transcript)[1:] != rows(transcript)[-1:]


@given(ids=st.lists(st.integers(0, 3), min_size=1, max_size=6), drops=st.integers(1, 4))
def test_no_turn_holds_pieces_of_two_connections(ids: list[int], drops: int) -> None:
    transcript = Transcript()
    owner: dict[int, int] = {}  # turn index -> connection
    for connection in range(drops + 1):
        transcript.apply(TextSent(f"turn on connection {connection}"))
        for turn_id in ids:
            for turn in transcript.apply(TranscriptDelta("agent", f"c{connection} t{turn_id}", turn=turn_id)):
                assert owner.setdefault(turn.index, connection) == connection
        transcript.apply(ConnectionLost("lost", None, mid_reply=True))
        transcript.apply(Reconnected(connection + 1))
    agent = [t for t in transcript.turns if t.role == "agent"]
    assert all(t.final for t in agent)
    cut_per_connection = {owner[t.index] for t in agent if t.interrupted}
    assert cut_per_connection == set(range(drops + 1))
