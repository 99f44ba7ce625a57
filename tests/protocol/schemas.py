"""Validate messages (client → server by default, or server → client) against the
committed vendor schema fixtures.

Validation is strict: on top of the vendor schema, an object schema that lists
``properties`` and says nothing about others is closed (``additionalProperties:
false``), so a misspelt field fails instead of passing silently.

``validate(..., from_spec=True)`` reads the schemas from the vendor AsyncAPI files
themselves (``$VOICECLI_SPEC_DIR`` or ``shared/specs`` beside the checkout) instead of
the committed fixtures; under CI a missing spec fails the test.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"


def _close(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _close(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out and "allOf" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close(v) for v in node]
    return node


@cache
def document(name: str, side: str = "client") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SCHEMAS / f"{name}_{side}.json").read_text())
    return doc


def spec_dir() -> Path | None:
    """The vendor AsyncAPI files: $VOICECLI_SPEC_DIR, or the shared folder beside the checkout."""
    env = os.environ.get("VOICECLI_SPEC_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "specs")
    return next((p for p in candidates if (p / "elevenlabs-agent.asyncapi.yaml").is_file()), None)


@cache
def spec_document(name: str, side: str = "client") -> dict[str, Any]:
    """The schemas of ``name``'s messages extracted from the vendor spec file now. Without
    the spec: a failure under CI, else the committed fixtures (a test checks that they
    match the spec wherever it is present)."""
    from tests.protocol.schema_extract import build

    where = spec_dir()
    if where is None:
        if os.environ.get("CI"):
            pytest.fail("vendor specs not found: set VOICECLI_SPEC_DIR", pytrace=False)
        return document(name, side)
    return build(where)[f"{name}_{side}.json"]


def validate(name: str, frame: str | bytes, *, strict: bool = True, side: str = "client",
             from_spec: bool = False) -> dict[str, Any]:
    """Validate one JSON text frame against ``<name>_<side>.json`` (side: ``client`` for
    what a client sends, ``server`` for what a server sends); return the message."""
    assert isinstance(frame, str), f"{name} {side} messages are text frames, got {frame!r}"
    message = json.loads(frame)
    assert isinstance(message, dict), frame
    doc = spec_document(name, side) if from_spec else document(name, side)
    key = message.get("type")
    if key is None:
        candidates = [k for k in doc["messages"] if k in message]
        assert len(candidates) == 1, f"untyped message matches no schema: {message}"
        key = candidates[0]
    assert key in doc["messages"], f"{name}: {key!r} is not a {side} message in the vendor schema"
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$defs": copy.deepcopy(doc["$defs"]), **copy.deepcopy(doc["messages"][key])}
    if strict:
        schema = _close(schema)
    jsonschema.Draft202012Validator(schema).validate(message)
    return message
