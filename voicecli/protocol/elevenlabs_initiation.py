"""The ElevenLabs ``conversation_initiation_client_data`` message, built from the config.

Options read from ``DialectConfig.options`` (all optional):

``prompt``, ``llm``, ``first_message``, ``language``
    ``conversation_config_override.agent`` (``prompt``/``llm`` go to ``agent.prompt``)
``voice_id``, ``stability``, ``speed``, ``similarity_boost``
    ``conversation_config_override.tts``
``keywords``
    ``conversation_config_override.asr.keywords`` (a list, or a comma-separated string)
``text_only``, ``client_events``
    ``conversation_config_override.conversation`` (``mode = "text"`` or ``"chat"`` also
    sets ``text_only``)
``user_id``, ``custom_llm_extra_body``
    top-level fields of the initiation message

``DialectConfig.variables`` become ``dynamic_variables``. Every override must be
enabled in the agent's security settings, or the server closes with 1008.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_AGENT_KEYS = ("first_message", "language")
_PROMPT_KEYS = ("prompt", "llm")
_TTS_KEYS = ("voice_id", "stability", "speed", "similarity_boost")


def _json_value(value: Any) -> str | int | float | bool:
    """dynamic_variables accept strings, numbers and booleans only."""
    if isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value, separators=(",", ":"))


def initiation_message(o: Mapping[str, Any], variables: Mapping[str, Any], text_only: bool) -> dict[str, Any]:
    """The ``conversation_initiation_client_data`` message for options ``o``."""
    agent: dict[str, Any] = {k: o[k] for k in _AGENT_KEYS if o.get(k) is not None}
    prompt = {k: o[k] for k in _PROMPT_KEYS if o.get(k) is not None}
    if prompt:
        agent["prompt"] = prompt
    tts = {k: (float(o[k]) if k != "voice_id" else str(o[k]))
           for k in _TTS_KEYS if o.get(k) is not None}
    asr: dict[str, Any] = {}
    keywords = o.get("keywords")
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",") if k.strip()]
    if keywords:
        asr["keywords"] = [str(k) for k in keywords]
    conversation: dict[str, Any] = {}
    if text_only:
        conversation["text_only"] = True
    events = o.get("client_events")
    if isinstance(events, str):
        events = [e.strip() for e in events.split(",") if e.strip()]
    if events:
        conversation["client_events"] = [str(e) for e in events]
    override: dict[str, Any] = {}
    for key, part in (("agent", agent), ("tts", tts), ("asr", asr), ("conversation", conversation)):
        if part:
            override[key] = part
    message: dict[str, Any] = {"type": "conversation_initiation_client_data"}
    if override:
        message["conversation_config_override"] = override
    if isinstance(o.get("custom_llm_extra_body"), dict):
        message["custom_llm_extra_body"] = o["custom_llm_extra_body"]
    if variables:
        message["dynamic_variables"] = {str(k): _json_value(v) for k, v in variables.items()}
    if o.get("user_id") is not None:
        message["user_id"] = str(o["user_id"])
    return message
