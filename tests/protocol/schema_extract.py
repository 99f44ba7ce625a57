"""Extract the message payload schemas, both ways, from a vendor AsyncAPI document.

The result is committed under ``tests/fixtures/schemas/`` so the tests need no spec
file. Regenerate with::

    .venv/bin/python tests/protocol/schema_extract.py SPEC_DIR

where SPEC_DIR holds ``elevenlabs-agent.asyncapi.yaml`` and ``atoms-agent-ws.asyncapi.yaml``.

Output layout: ``{"$defs": {...named schemas...}, "messages": {wire_type: schema}}``;
local references are rewritten from ``#/components/schemas/X`` to ``#/$defs/X``. The
ElevenLabs audio message has no ``type``; it is keyed ``user_audio_chunk``. Client →
server messages go to ``NAME_client.json``, server → client ones to ``NAME_server.json``.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"

ELEVENLABS_CLIENT_MESSAGES = (
    "UserAudio", "Pong", "UserMessage", "UserActivity", "UserFeedback", "ClientToolResult",
    "MCPToolApprovalResult", "ContextualUpdate", "ConversationInitiation", "MultimodalMessage",
)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                out[key] = "#/$defs/" + value.rsplit("/", 1)[1]
            else:
                out[key] = _rewrite(value)
        return out
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def _wire_type(payload: dict[str, Any], schemas: dict[str, Any]) -> str:
    if "$ref" in payload:
        payload = schemas[payload["$ref"].rsplit("/", 1)[1]]
    type_prop = payload.get("properties", {}).get("type", {})
    if "const" in type_prop:
        return str(type_prop["const"])
    required = payload.get("required", [])
    return str(required[0])  # the typeless audio message: keyed by its only field


def _server_names(spec: dict[str, Any]) -> tuple[str, ...]:
    """AsyncAPI 2 (ElevenLabs): the messages the agent publishes."""
    names: list[str] = []
    for channel in spec.get("channels", {}).values():
        message = channel.get("publish", {}).get("message", {})
        names.extend(ref["$ref"].rsplit("/", 1)[1] for ref in message.get("oneOf", []))
    return tuple(names)


def extract(spec: dict[str, Any], message_names: tuple[str, ...] | None = None,
            action: str = "send") -> dict[str, Any]:
    components = spec["components"]
    schemas: dict[str, Any] = components.get("schemas", {})
    messages: dict[str, Any] = components["messages"]
    if message_names is None:  # AsyncAPI 3: the messages of every "send" (or "receive") operation
        message_names = tuple(
            ref["$ref"].rsplit("/", 1)[1]
            for op in spec.get("operations", {}).values() if op.get("action") == action
            for ref in op.get("messages", []))
    out_messages: dict[str, Any] = {}
    needed: set[str] = set()
    for name in message_names:
        payload = copy.deepcopy(messages[name]["payload"])
        out_messages[_wire_type(payload, schemas)] = payload
        needed |= _refs(payload)
    defs: dict[str, Any] = {}
    todo = sorted(needed)
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        defs[name] = copy.deepcopy(schemas[name])
        todo.extend(sorted(_refs(defs[name]) - defs.keys()))
    return {"$defs": _rewrite(dict(sorted(defs.items()))), "messages": _rewrite(out_messages)}


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2's booleans: only true/false. PyYAML follows YAML 1.1, where ``no``, ``yes``,
    ``on`` and ``off`` are booleans too, which turned the Norwegian language code ``no`` in
    the ElevenLabs ``Language`` enum into ``false``."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=_Yaml12Loader)  # noqa: S506 - a safe loader


def build(spec_dir: Path) -> dict[str, dict[str, Any]]:
    el = load(spec_dir / "elevenlabs-agent.asyncapi.yaml")
    atoms = load(spec_dir / "atoms-agent-ws.asyncapi.yaml")
    return {
        "elevenlabs_client.json": extract(el, ELEVENLABS_CLIENT_MESSAGES),
        "elevenlabs_server.json": extract(el, _server_names(el)),
        "atoms_client.json": extract(atoms),
        "atoms_server.json": extract(atoms, action="receive"),
        "atoms_query.json": _query(atoms),
    }


def _query(spec: dict[str, Any]) -> dict[str, Any]:
    """The WebSocket query parameters a server's binding declares (AsyncAPI 3)."""
    (server,) = spec["servers"].values()
    query: dict[str, Any] = copy.deepcopy(server["bindings"]["ws"]["query"])
    return query


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    spec_dir = Path(argv[1])
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, doc in build(spec_dir).items():
        (FIXTURES / name).write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
        print(f"wrote {FIXTURES / name}: {', '.join(doc.get('messages', doc.get('properties', {})))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
