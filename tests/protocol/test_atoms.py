"""Atoms adapter: every message it can send validates against the vendor schema."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest

from tests.protocol import schemas
from tests.protocol.schema_extract import build
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import (
    Close,
    CommitAudio,
    ContextUpdate,
    Interrupt,
    Pong,
    SendAudio,
    SendText,
    SendToolResult,
    UserActivity,
)
from voicecli.secrets import Secret

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"


def make(**kw: object) -> AtomsAdapter:
    kw.setdefault("agent_id", "agent_1")
    kw.setdefault("api_key", Secret("sk_test_key_1"))
    return AtomsAdapter(DialectConfig(url="https://api.smallest.ai", **kw))  # type: ignore[arg-type]


def test_every_encoded_message_validates() -> None:
    a = make()
    sent = []
    for command in (SendAudio(b"\x00\x01" * 480), CommitAudio(), SendText("hello"), Close()):
        (frame,) = a.encode(command)
        sent.append(schemas.validate("atoms", frame)["type"])
    assert sent == ["input_audio_buffer.append", "input_audio_buffer.commit", "input_text.send", "session.close"]
    for silent in (SendText(""), Interrupt(), Pong(1), ContextUpdate("x"), UserActivity(), SendToolResult("c", "r")):
        assert a.encode(silent) == []


def test_text_min_length_is_enforced_by_the_schema() -> None:
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate("atoms", json.dumps({"type": "input_text.send", "text": ""}))


def test_header_and_query_auth() -> None:
    hs = make(sample_rate=16000).handshake()
    assert hs.headers["Authorization"] == "Bearer sk_test_key_1"
    q = parse_qs(urlsplit(hs.url).query)
    assert q == {"agent_id": ["agent_1"], "sample_rate": ["16000"]}
    hs = make(options={"auth": "query"}).handshake()
    assert "Authorization" not in hs.headers
    assert parse_qs(urlsplit(hs.url).query)["token"] == ["sk_test_key_1"]


def _spec_dir() -> Path | None:
    """The vendor AsyncAPI files: $VOICECLI_SPEC_DIR, or the shared folder beside the checkout."""
    env = os.environ.get("VOICECLI_SPEC_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "specs")
    return next((p for p in candidates if (p / "atoms-agent-ws.asyncapi.yaml").is_file()), None)


def test_fixtures_match_the_vendor_specs() -> None:
    spec_dir = _spec_dir()
    if spec_dir is None:
        if os.environ.get("CI"):
            pytest.fail("vendor specs not found: set VOICECLI_SPEC_DIR")
        pytest.skip("vendor specs not found beside the checkout; set VOICECLI_SPEC_DIR")
    for name, doc in build(spec_dir).items():
        assert json.loads((SCHEMA_DIR / name).read_text()) == doc, name
