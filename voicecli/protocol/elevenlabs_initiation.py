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

from voicecli.protocol.wire import elevenlabs as wire
from voicecli.protocol.wire.codec import to_object


def _json_value(value: Any) -> str | int | float | bool:
    """dynamic_variables accept strings, numbers and booleans only."""
    if isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value, separators=(",", ":"))


def _names(value: Any) -> list[str] | None:
    """A list option given as a list or as a comma-separated string (None when empty)."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value] if value else None


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _override(o: Mapping[str, Any], text_only: bool) -> wire.ConfigOverride | None:
    prompt = wire.PromptOverride(prompt=o.get("prompt"), llm=o.get("llm"))
    agent = wire.AgentOverride(first_message=o.get("first_message"), language=o.get("language"),
                               prompt=prompt if prompt != wire.PromptOverride() else None)
    voice = o.get("voice_id")
    tts = wire.TtsOverride(voice_id=str(voice) if voice is not None else None, stability=_float(o.get("stability")),
                           speed=_float(o.get("speed")), similarity_boost=_float(o.get("similarity_boost")))
    keywords = _names(o.get("keywords"))
    conversation = wire.ConversationOverride(text_only=True if text_only else None,
                                             client_events=_names(o.get("client_events")))
    override = wire.ConfigOverride(
        agent=agent if agent != wire.AgentOverride() else None,
        tts=tts if tts != wire.TtsOverride() else None,
        asr=wire.AsrOverride(keywords=keywords) if keywords else None,
        conversation=conversation if conversation != wire.ConversationOverride() else None)
    return override if override != wire.ConfigOverride() else None


def initiation(o: Mapping[str, Any], variables: Mapping[str, Any], text_only: bool) -> wire.ConversationInitiation:
    """The ``conversation_initiation_client_data`` message for options ``o``."""
    extra = o.get("custom_llm_extra_body")
    user = o.get("user_id")
    return wire.ConversationInitiation(
        conversation_config_override=_override(o, text_only),
        custom_llm_extra_body=extra if isinstance(extra, dict) else None,
        dynamic_variables={str(k): _json_value(v) for k, v in variables.items()} if variables else None,
        user_id=str(user) if user is not None else None)


def initiation_message(o: Mapping[str, Any], variables: Mapping[str, Any], text_only: bool) -> dict[str, Any]:
    """The ``conversation_initiation_client_data`` message for options ``o``, as a JSON object."""
    return to_object(initiation(o, variables, text_only))
