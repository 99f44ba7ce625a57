"""The local ElevenLabs server sends each audio chunk's characters and their timings
(``audio_event.alignment``), as the hosted service does; the client keeps them as what the
chunk speaks, and a cut reply's transcript is cut where it was heard."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tests.protocol.schemas import validate
from voicecli.agent.dialects._alignment import alignment
from voicecli.agent.dialects.elevenlabs import ElevenLabsServer
from voicecli.agent.interfaces import AudioOut
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.protocol.events import AgentAudio, AudioFormat, Interruption
from voicecli.session.events import PlaybackFlushed
from voicecli.session.transcript import Transcript

RATE = 16000


@given(sentence=st.text(alphabet="abc de.", min_size=1, max_size=80), chunk=st.integers(2, 4000),
       length=st.integers(2, 40000), lead=st.booleans())
def test_chunks_spell_the_sentence_in_order(sentence: str, chunk: int, length: int, lead: bool) -> None:
    chunk -= chunk % 2
    length -= length % 2
    spelled = ""
    for offset in range(0, length, chunk):
        timing = alignment(sentence, offset, length, min(chunk, length - offset), RATE, lead)
        assert timing is not None
        starts = timing["char_start_times_ms"]
        assert len(timing["chars"]) == len(starts) == len(timing["char_durations_ms"])
        assert starts == sorted(starts) and all(0 <= s <= chunk / 2 / RATE * 1000 + 1 for s in starts)
        spelled += "".join(timing["chars"])
    assert spelled == (" " if lead else "") + sentence


def test_server_audio_carries_alignment_that_the_client_reads() -> None:
    server = ElevenLabsServer()
    server.client_events = server.client_events | {"audio"}
    adapter = ElevenLabsAdapter(DialectConfig(url="http://127.0.0.1:9", agent_id="a"))
    adapter.feed(json.dumps({"type": "conversation_initiation_metadata", "conversation_initiation_metadata_event": {
        "conversation_id": "c", "agent_output_audio_format": "pcm_16000", "user_input_audio_format": "pcm_16000"}}))
    sentences = ["Hello there.", "How are you?"]
    heard = ""
    for sentence in sentences:
        pcm = bytes(RATE * 2 // 2)  # half a second per sentence, in 40 ms chunks
        for offset in range(0, len(pcm), 1280):
            (frame,) = server.encode(AudioOut(pcm[offset:offset + 1280], 1, offset // 1280, text=sentence,
                                              offset=offset, length=len(pcm)))
            validate("elevenlabs", frame, side="server")
            (event,) = adapter.feed(frame)
            assert isinstance(event, AgentAudio) and event.text is not None
            heard += event.text
    assert heard == "Hello there. How are you?"
    (plain,) = server.encode(AudioOut(bytes(640), 2, 0))  # audio with no sentence (a playback)
    assert "alignment" not in json.loads(plain)["audio_event"]


def test_a_cut_reply_keeps_the_words_heard() -> None:
    t = Transcript()
    fmt = AudioFormat("pcm16", RATE)
    from voicecli.protocol.events import TranscriptFinal

    t.apply(TranscriptFinal("agent", "one two three four five six", turn=7))
    pieces = ["one t", "wo thr", "ee fo", "ur five", " six"]
    for piece in pieces:  # 0.25 s each
        t.apply(AgentAudio(bytes(RATE // 2), fmt, event_id=7, turn=7, text=piece))
    t.apply(Interruption(event_id=7))
    t.apply(PlaybackFlushed(dropped_s=0.6, heard_s=0.6))  # into the third piece: "ee" of "three"
    (turn,) = t.turns
    assert turn.interrupted and turn.text == "one two three …"
