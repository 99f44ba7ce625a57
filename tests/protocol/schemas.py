"""Validate messages (client → server by default, or server → client) against the
committed vendor schema fixtures.

Validation is strict: on top of the vendor schema, an object schema that lists
``properties`` and says nothing about others is closed (``additionalProperties:
false``), so a misspelt field fails instead of passing silently.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

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


def validate(name: str, frame: str | bytes, *, strict: bool = True, side: str = "client") -> dict[str, Any]:
    """Validate one JSON text frame against ``<name>_<side>.json`` (side: ``client`` for
    what a client sends, ``server`` for what a server sends); return the message."""
    assert isinstance(frame, str), f"{name} {side} messages are text frames, got {frame!r}"
    message = json.loads(frame)
    assert isinstance(message, dict), frame
    doc = document(name, side)
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
