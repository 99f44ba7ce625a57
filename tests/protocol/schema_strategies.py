"""Hypothesis strategies drawn from the committed vendor schema fixtures: every message a
vendor schema allows, built from the schema itself (not from our own definitions).

Covers the JSON Schema the vendor files use: ``$ref``, ``type`` (one or a list),
``properties``/``required``, ``items``, ``enum``, ``const``, ``nullable``, ``oneOf``,
``anyOf``, ``allOf``, ``minimum``/``maximum``, ``minLength``, ``minItems``/``maxItems``
and ``contentEncoding``. Optional properties are drawn or left out; objects get no
properties the schema does not list. Strings whose description says base64 are drawn as
base64 (the schemas type them as plain strings); a value the schema leaves open and the
vendor's SDKs type is drawn as they type it (:data:`REFINED`).
"""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import strategies as st

from tests.protocol.schemas import document

# where a vendor schema leaves a value open and its SDKs type it: drawn as the SDKs type it
# (the python SDK: ``dynamic_variables: dict[str, str | int | float | bool]``)
REFINED: dict[str, st.SearchStrategy[Any]] = {
    "dynamic_variables": st.dictionaries(st.text(max_size=8), st.text(max_size=8) | st.integers()
                                         | st.floats(allow_nan=False, allow_infinity=False) | st.booleans(),
                                         max_size=3),
}
JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=12)
ANY_OBJECT = st.dictionaries(st.text(max_size=8), JSON_SCALARS, max_size=3)


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = {**doc["$defs"][node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _merge(doc: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for part in parts:
        part = _resolve(doc, part)
        merged["properties"].update(part.get("properties", {}))
        merged["required"] += part.get("required", [])
    return merged


def _is_base64(name: str, node: dict[str, Any]) -> bool:
    return (node.get("contentEncoding") == "base64" or "base64" in str(node.get("description", "")).lower()
            or name.endswith(("base_64", "audio_chunk")))


def strategy(doc: dict[str, Any], node: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
    if name in REFINED:
        return REFINED[name]
    node = _resolve(doc, node)
    inner = _plain(doc, node, name)
    return st.none() | inner if node.get("nullable") else inner


def _plain(doc: dict[str, Any], node: dict[str, Any], name: str) -> st.SearchStrategy[Any]:  # noqa: C901
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    for key in ("oneOf", "anyOf"):
        if key in node:
            return st.one_of([strategy(doc, option, name) for option in node[key]])
    if "allOf" in node:
        return _plain(doc, _merge(doc, node["allOf"]), name)
    kind = node.get("type")
    if isinstance(kind, list):
        return st.one_of([_plain(doc, {**node, "type": k}, name) for k in kind])
    if kind == "object" or "properties" in node:
        return _object(doc, node)
    if kind == "array":
        items = strategy(doc, node.get("items", {}), name)
        return st.lists(items, min_size=node.get("minItems", 0), max_size=node.get("maxItems", 3))
    if kind == "string":
        least = node.get("minLength", 0)
        if _is_base64(name, node):
            return st.binary(min_size=least, max_size=64).map(lambda b: base64.b64encode(b).decode("ascii"))
        return st.text(min_size=least, max_size=max(16, least))
    if kind == "integer":
        return st.integers(node.get("minimum", -(2**31)), node.get("maximum", 2**31))
    if kind == "number":
        return st.floats(node.get("minimum", -1e6), node.get("maximum", 1e6), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JSON_SCALARS


def _object(doc: dict[str, Any], node: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = node.get("properties")
    if not properties:
        return ANY_OBJECT
    required = set(node.get("required", []))
    fixed = {k: strategy(doc, v, k) for k, v in properties.items() if k in required}
    optional = {k: strategy(doc, v, k) for k, v in properties.items() if k not in required}
    return st.fixed_dictionaries(fixed, optional=optional)


def messages(name: str, side: str) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """Message name → a strategy for every message of that name the vendor schema allows."""
    doc = document(name, side)
    return {key: strategy(doc, schema) for key, schema in doc["messages"].items()}
