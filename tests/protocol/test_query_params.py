"""Query parameters the client puts on the socket URL come only from the vendor's own
definitions: Atoms' WebSocket binding in its AsyncAPI document, and for ElevenLabs the
parameters and the ``source`` values of the official python SDK."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from elevenlabs.types.conversation_initiation_source import ConversationInitiationSource

from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.secrets import Secret

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"
# what the official python SDK puts on the conversation URL, and the signed URL's token
EL_PARAMS = {"agent_id", "source", "version", "environment", "branch_id", "token", "conversation_id"}


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def _sources() -> set[str]:
    literal = typing.get_args(ConversationInitiationSource)[0]
    return set(typing.get_args(literal))


@pytest.mark.parametrize("options", [{}, {"environment": "staging"}])
def test_elevenlabs_public_url_uses_sdk_parameters_and_a_known_source(options: dict[str, str]) -> None:
    adapter = ElevenLabsAdapter(DialectConfig(url="https://api.elevenlabs.io", agent_id="agent_1", options=options))
    query = _query(adapter.handshake().url)
    assert set(query) <= EL_PARAMS, query
    assert "unknown" in _sources() and query["source"] == ["unknown"]
    assert all(len(v) == 1 for v in query.values())


def test_elevenlabs_signed_url_keeps_the_token_and_adds_only_sdk_parameters() -> None:
    adapter = ElevenLabsAdapter(DialectConfig(url="https://api.elevenlabs.io", agent_id="agent_1",
                                              api_key=Secret("xi_query_test_key_1")))
    adapter.on_http_response(200, json.dumps({
        "signed_url": "wss://api.elevenlabs.io/v1/convai/conversation?agent_id=agent_1&conversation_signature=s1"
    }).encode())
    query = _query(adapter.handshake().url)
    assert set(query) - {"conversation_signature"} <= EL_PARAMS, query
    assert query["source"][0] in _sources()


@pytest.mark.parametrize(("auth", "mode", "variables"), [
    ("header", None, {}), ("query", "chat", {"name": "Ada"}), ("header", "webcall", {"n": 3})])
def test_atoms_query_validates_against_the_binding(auth: str, mode: str | None, variables: dict[str, object]) -> None:
    schema = json.loads((SCHEMAS / "atoms_query.json").read_text())
    adapter = AtomsAdapter(DialectConfig(url="https://api.smallest.ai", agent_id="a1", api_key=Secret("sk_query_1"),
                                         mode=mode, sample_rate=16000, variables=variables,
                                         options={"auth": auth}))
    query = {k: v[0] for k, v in _query(adapter.handshake().url).items()}
    if "sample_rate" in query:
        query["sample_rate"] = int(query["sample_rate"])  # type: ignore[assignment]
    # `variables` is described in the token's text (not in the binding's properties);
    # with header auth the token is the Authorization header (the document's bearerAuth)
    declared = {k: v for k, v in query.items() if k != "variables"}
    if auth == "header":
        schema = {**schema, "required": []}
    jsonschema.Draft202012Validator({**schema, "additionalProperties": False}).validate(declared)
    assert set(query) - set(declared) <= {"variables"}
