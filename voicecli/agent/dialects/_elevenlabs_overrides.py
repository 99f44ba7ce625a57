"""Checks of the ElevenLabs ``conversation_initiation_client_data`` message, server side.

Used by :mod:`voicecli.agent.dialects.elevenlabs`; a problem ends the session with
``error{error_type: invalid_message | override_error}`` and close 1008. Overrides are
checked but not applied (the local agent's voice and greeting are fixed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voicecli.agent.interfaces import ProtocolViolation

OVERRIDE_KEYS: Mapping[str, frozenset[str]] = {
    "agent": frozenset({"first_message", "language", "prompt", "native_mcp_server_ids"}),
    "tts": frozenset({"voice_id", "stability", "speed", "similarity_boost"}),
    "asr": frozenset({"keywords"}),
    "conversation": frozenset({"text_only", "client_events"}),
}
TTS_RANGES: Mapping[str, tuple[float, float]] = {
    "stability": (0.0, 1.0), "speed": (0.7, 5.0), "similarity_boost": (0.0, 1.0)}
INITIATION_KEYS = frozenset({
    "type", "conversation_config_override", "custom_llm_extra_body", "dynamic_variables", "user_id",
    "source_info", "tool_mock_config"})


def check_initiation(m: dict[str, Any]) -> ProtocolViolation | None:
    """What is wrong with an initiation message, or None."""
    extra = set(m) - INITIATION_KEYS
    if extra:
        return ProtocolViolation(f"unexpected fields: {', '.join(sorted(extra))}", "invalid_message", 1008)
    variables = m.get("dynamic_variables")
    if variables is not None and (not isinstance(variables, dict) or not all(
            isinstance(v, (str, int, float, bool)) for v in variables.values())):
        return ProtocolViolation("dynamic_variables must map names to strings, numbers or booleans",
                                 "invalid_message", 1008)
    override = m.get("conversation_config_override")
    if override is None:
        return None
    problem = check_override(override)
    if problem:
        return ProtocolViolation(f"Override error: {problem}", "override_error", 1008)
    return None


def check_override(override: Any) -> str | None:
    if not isinstance(override, dict):
        return "conversation_config_override must be an object"
    for section, value in override.items():
        allowed = OVERRIDE_KEYS.get(section)
        if allowed is None:
            return f"unknown section {section!r}"
        if not isinstance(value, dict):
            return f"{section} must be an object"
        unknown = set(value) - allowed
        if unknown:
            return f"{section}.{sorted(unknown)[0]} cannot be overridden"
    tts = override.get("tts") or {}
    for key, (low, high) in TTS_RANGES.items():
        value = tts.get(key)
        if value is not None and (not isinstance(value, (int, float)) or not low <= value <= high):
            return f"tts.{key} must be between {low} and {high}"
    events = (override.get("conversation") or {}).get("client_events")
    if events is not None and (not isinstance(events, list) or not events
                               or not all(isinstance(e, str) for e in events)):
        return "conversation.client_events must be a non-empty list of event names"
    prompt = (override.get("agent") or {}).get("prompt")
    if prompt is not None and (not isinstance(prompt, dict) or set(prompt) - {"prompt", "llm"}):
        return "agent.prompt must be an object with prompt and llm"
    return None
