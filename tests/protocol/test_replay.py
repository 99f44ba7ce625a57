"""Every recorded transcript replays cleanly, and every frame we sent in it is valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.protocol import schemas
from tests.protocol.replay import replay, transcripts
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import Adapter
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.protocol.events import Event, SessionEnded, Unknown
from voicecli.protocol.perfvoice import PerfVoiceAdapter
from voicecli.protocol.token_pcm import FRAME_BYTES, TokenPcmAdapter
from voicecli.protocol.voiceagent import VoiceAgentAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    "atoms": AtomsAdapter,
    "elevenlabs": ElevenLabsAdapter,
    "token_pcm": TokenPcmAdapter,
    "voiceagent": VoiceAgentAdapter,
    "perfvoice": PerfVoiceAdapter,
}

CASES = [pytest.param(dialect, path, id=f"{dialect}/{path.stem}")
         for dialect in ADAPTERS for path in transcripts(dialect)]


def test_every_dialect_has_transcripts() -> None:
    for dialect in ("elevenlabs", "token_pcm", "voiceagent", "perfvoice"):
        assert len(transcripts(dialect)) >= 3, dialect


@pytest.mark.parametrize(("dialect", "path"), CASES)
def test_transcript_replays(dialect: str, path: Path) -> None:
    result = replay(path, ADAPTERS[dialect])
    for frame in result.sent:
        check_sent(dialect, frame)
    # a remote protocol violation never raises; it is reported
    for event in result.events:
        assert isinstance(event, Event)
        if isinstance(event, Unknown) and event.malformed:
            assert event.raw is not None
    closes = [s for s in result.steps if s.entry["dir"] == "close"]
    for step in closes:
        (ended,) = step.events
        assert isinstance(ended, SessionEnded)
        assert ended.reason


def check_sent(dialect: str, frame: str | bytes) -> None:
    if dialect in ("elevenlabs", "atoms", "voiceagent", "perfvoice"):
        schemas.validate(dialect, frame)
    elif dialect == "token_pcm":
        if isinstance(frame, bytes):
            assert len(frame) == FRAME_BYTES
        else:
            schemas.validate(dialect, frame)
    else:  # pragma: no cover
        raise AssertionError(dialect)
