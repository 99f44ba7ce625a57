"""The ElevenLabs ``conversation_initiation_client_data`` message, server side: the settings
it carries, and what the server answers a message it cannot read.

Used by :mod:`voicecli.agent.dialects.elevenlabs`. The message is read by the shared wire
vocabulary (:mod:`voicecli.protocol.wire.elevenlabs`), which is as lenient as the hosted
service: the vendor schema (``ConversationInitiationPayload`` and every override object in
it) lists fields without closing the objects, and the official python SDK relies on that:
without an audio interface it sends ``conversation_config_override: {"text_only": true}``,
a field outside the listed sections. So fields the local agent does not know are accepted
and ignored, at the top level and inside the override. Known fields with a wrong type or
out of range (``tts.speed`` outside 0.7–5, an empty ``client_events``) end the session
with ``error{error_type: override_error}`` (``invalid_message`` for the message's own
fields, ``missing_fields`` for a required field left out) and close 1008, as the hosted
service does.

Applied: ``text_only`` (at the message's top level, at the override's top level, or in
``conversation``), ``conversation.client_events``, ``agent.first_message`` (the
greeting; "" for none), ``agent.language`` and ``agent.prompt.prompt``. The voice,
``tts``, ``asr`` and ``agent.prompt.llm`` are checked but not applied.
"""

from __future__ import annotations

from dataclasses import dataclass

from voicecli.agent.interfaces import ProtocolViolation
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import elevenlabs as wire
from voicecli.protocol.wire.codec import MISSING

OVERRIDE = "conversation_config_override"


@dataclass(frozen=True)
class Initiation:
    """What an initiation message asks for (``None``: the agent's own setting)."""

    text_only: bool = False
    client_events: frozenset[str] | None = None
    greeting: str | None = None
    language: str | None = None
    prompt: str | None = None


def settings(message: wire.ConversationInitiation | None) -> Initiation:
    """The settings of an initiation message (the agent's own without one)."""
    if message is None:
        return Initiation()
    override = message.conversation_config_override or wire.ConfigOverride()
    agent = override.agent or wire.AgentOverride()
    conversation = override.conversation or wire.ConversationOverride()
    events = conversation.client_events
    return Initiation(
        text_only=bool(message.text_only or override.text_only or conversation.text_only),
        client_events=frozenset(events) if events else None,
        greeting=agent.first_message,
        language=agent.language or None,
        prompt=(agent.prompt.prompt if agent.prompt else None) or None)


def violation(err: WireError) -> ProtocolViolation:
    """What the server answers a client message it cannot read: an error, then close 1008."""
    if (err.field or "").startswith(OVERRIDE):
        return ProtocolViolation(f"Override error: {err}", "override_error", 1008)
    return ProtocolViolation(str(err), "missing_fields" if err.kind == MISSING else "invalid_message", 1008)
