"""The ElevenLabs ``conversation_initiation_client_data`` message, server side: checks and
the settings it carries.

Used by :mod:`voicecli.agent.dialects.elevenlabs`. How lenient, and why: the vendor
schema (``ConversationInitiationPayload`` and every override object in it) lists fields
without closing the objects, and the official python SDK relies on that: without an
audio interface it sends ``conversation_config_override: {"text_only": true}``, a field
outside the listed sections. So fields the local agent does not know are accepted and
ignored, at the top level and inside the override. Known fields with a wrong type or
out of range (``tts.speed`` outside 0.7–5, an empty ``client_events``) end the session
with ``error{error_type: override_error}`` (``invalid_message`` for the message's own
fields) and close 1008, as the hosted service does.

Applied: ``text_only`` (at the message's top level, at the override's top level, or in
``conversation``), ``conversation.client_events``, ``agent.first_message`` (the
greeting; "" for none), ``agent.language`` and ``agent.prompt.prompt``. The voice,
``tts``, ``asr`` and ``agent.prompt.llm`` are checked but not applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from voicecli.agent.interfaces import ProtocolViolation

TTS_RANGES: Mapping[str, tuple[float, float]] = {
    "stability": (0.0, 1.0), "speed": (0.7, 5.0), "similarity_boost": (0.0, 1.0)}
SECTIONS = ("agent", "tts", "asr", "conversation")


@dataclass(frozen=True)
class Initiation:
    """What an initiation message asks for (``None``: the agent's own setting)."""

    text_only: bool = False
    client_events: frozenset[str] | None = None
    greeting: str | None = None
    language: str | None = None
    prompt: str | None = None


def _optional(value: Any, kind: type) -> bool:
    """``value`` is absent (None) or of ``kind`` (a bool is not a number here)."""
    if value is None:
        return True
    if kind is bool:
        return isinstance(value, bool)
    return isinstance(value, kind) and not isinstance(value, bool)


def read_initiation(m: dict[str, Any]) -> Initiation | ProtocolViolation:
    """The settings of an initiation message, or what is wrong with it."""
    for key in ("custom_llm_extra_body", "source_info", "tool_mock_config"):
        if not _optional(m.get(key), dict):
            return ProtocolViolation(f"{key} must be an object", "invalid_message", 1008)
    if not _optional(m.get("user_id"), str):
        return ProtocolViolation("user_id must be a string", "invalid_message", 1008)
    variables = m.get("dynamic_variables")
    if variables is not None and (not isinstance(variables, dict) or not all(
            isinstance(v, (str, int, float, bool)) for v in variables.values())):
        return ProtocolViolation("dynamic_variables must map names to strings, numbers or booleans",
                                 "invalid_message", 1008)
    if not _optional(m.get("text_only"), bool):
        return ProtocolViolation("text_only must be a boolean", "invalid_message", 1008)
    override = m.get("conversation_config_override")
    if override is None:
        return Initiation(text_only=bool(m.get("text_only")))
    problem = check_override(override)
    if problem:
        return ProtocolViolation(f"Override error: {problem}", "override_error", 1008)
    agent = override.get("agent") or {}
    conversation = override.get("conversation") or {}
    events = conversation.get("client_events")
    prompt = (agent.get("prompt") or {}).get("prompt")
    return Initiation(
        text_only=bool(m.get("text_only") or override.get("text_only") or conversation.get("text_only")),
        client_events=frozenset(events) if events else None,
        greeting=agent.get("first_message"),
        language=agent.get("language") or None,
        prompt=prompt or None)


def check_override(override: Any) -> str | None:
    """What is wrong with ``conversation_config_override``, or None."""
    if not isinstance(override, dict):
        return "conversation_config_override must be an object"
    for section in SECTIONS:
        if not _optional(override.get(section), dict):
            return f"{section} must be an object"
    if not _optional(override.get("text_only"), bool):
        return "text_only must be a boolean"
    tts = override.get("tts") or {}
    for key, (low, high) in TTS_RANGES.items():
        value = tts.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not low <= value <= high):
            return f"tts.{key} must be between {low} and {high}"
    if not _optional(tts.get("voice_id"), str):
        return "tts.voice_id must be a string"
    keywords = (override.get("asr") or {}).get("keywords")
    if keywords is not None and (not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords)):
        return "asr.keywords must be a list of strings"
    conversation = override.get("conversation") or {}
    if not _optional(conversation.get("text_only"), bool):
        return "conversation.text_only must be a boolean"
    events = conversation.get("client_events")
    if events is not None and (not isinstance(events, list) or not events
                               or not all(isinstance(e, str) for e in events)):
        return "conversation.client_events must be a non-empty list of event names"
    agent = override.get("agent") or {}
    for key in ("first_message", "language"):
        if not _optional(agent.get(key), str):
            return f"agent.{key} must be a string"
    prompt = agent.get("prompt")
    if prompt is not None and (not isinstance(prompt, dict) or not _optional(prompt.get("prompt"), str)
                               or not _optional(prompt.get("llm"), str)):
        return "agent.prompt must be an object whose prompt and llm are strings"
    ids = agent.get("native_mcp_server_ids")
    if ids is not None and (not isinstance(ids, list) or len(ids) > 10):
        return "agent.native_mcp_server_ids must be a list of at most 10 ids"
    return None
