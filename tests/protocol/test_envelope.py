"""Whatever a peer sends, every adapter answers with events, never an exception."""

from __future__ import annotations

import pytest

from voicecli.protocol.base import DialectConfig
from voicecli.protocol.events import Unknown
from voicecli.protocol.registry import DIALECTS, adapter_class
from voicecli.secrets import Secret

HOSTILE = [
    b"\xff\xfe not utf-8",
    "not json",
    "[]",
    '{"type": 5}',
    '{"type": "interruption", "interruption_event": {"event_id": 1e999}}',
    '{"type": "ping", "ping_event": {"event_id": 1e999}}',
    '{"type": "audio", "audio_event": {"audio_base_64": "###", "event_id": 1}}',
    '{"type": "output_audio.delta", "audio": 7}',
    '{"type": "session.created", "sample_rate": "fast"}',
    '{"type": "audio_chunk", "chunkId": 1e999, "data": "AAAA", "format": "mp3"}',
    '{"type": "conversation_initiation_metadata", "conversation_initiation_metadata_event": 3}',
]


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_hostile_frames_become_events(dialect: str) -> None:
    config = DialectConfig(url="http://127.0.0.1:1", agent_id="a", api_key=Secret("sk_envelope_1"))
    adapter = adapter_class(dialect)(config)
    for frame in HOSTILE:
        events = adapter.feed(frame)
        assert isinstance(events, list), frame
    assert any(isinstance(e, Unknown) and e.malformed for e in adapter.feed("not json"))
