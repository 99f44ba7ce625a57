"""PerfVoice (withperf) voice agent, server side (seed 004; PROTOCOLS.md section E).

The peer of ``voicecli.protocol.perfvoice.PerfVoiceAdapter``. The documented parts:

- ``/v1/voice/conversation?api_key=KEY&agent_id=ID``: a bad or missing key is refused
  with HTTP 401 and an unknown agent with 404 (the SDK reports both as "WebSocket
  connection failed").
- When the session is ready the server sends ``conversation_initiation_metadata``.
  Audio that arrives before that message was sent closes the socket with **1008**.
- Mic audio: ``{"user_audio_chunk": base64 PCM16 16 kHz mono}``; ``pong`` answers
  ``ping`` (sent every ``PING_INTERVAL_S`` seconds).
- Server messages: ``audio``, ``agent_response``, ``user_transcript``, ``interruption``,
  ``ping``, ``error``.

The order follows ElevenLabs too: ``agent_response`` carries the whole reply with its
first audio (``reply_text_first``); ``variant:legacy-order`` keeps the older order
(``agent_response`` when the reply ends).

The field layouts follow ElevenLabs (the messages share its names; PerfVoice does not
publish its layouts): ``conversation_initiation_metadata_event``,
``audio_event{audio_base_64, event_id}``, ``ping_event{event_id, ping_ms}``,
``interruption_event{event_id}`` and so on, with ``pcm_16000`` both ways. Other client
messages (``conversation_initiation_client_data``, ``user_message``…) are not documented
and are ignored; a frame that is not JSON is answered with an ``error`` message.
"""

from __future__ import annotations

from typing import ClassVar

from voicecli.agent.dialects import register
from voicecli.agent.dialects.elevenlabs import DEFAULT_CLIENT_EVENTS, ElevenLabsShaped
from voicecli.agent.interfaces import (
    AgentOutput,
    ErrorOut,
    Frame,
    KeyCheck,
    ProtocolViolation,
    Ready,
    Reject,
    UpgradeRequest,
    UserInput,
    UserPong,
)
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import perfvoice as wire
from voicecli.protocol.wire.codec import JSON

PATH = "/v1/voice/conversation"
LEGACY_ORDER = "legacy-order"
PING_INTERVAL_S = 5.0
EVENTS = DEFAULT_CLIENT_EVENTS - {"tentative_user_transcript"}


@register
class PerfVoiceServer(ElevenLabsShaped):
    name: ClassVar[str] = "perfvoice"
    path: ClassVar[str] = PATH

    def __init__(self) -> None:
        super().__init__()
        self.ping_interval = PING_INTERVAL_S
        self.client_events = EVENTS
        self.metadata_sent = False
        self.reply_text_first = True  # agent_response with the first audio chunk

    def accept(self, request: UpgradeRequest, keys: KeyCheck) -> Reject | None:
        self.reply_text_first = LEGACY_ORDER not in self.variants
        if not keys.valid_key(request.query.get("api_key") or None):
            return Reject(401, "invalid or missing api_key")
        self.agent_id = request.query.get("agent_id") or None
        if not self.agent_id or not keys.agent_exists(self.agent_id):
            return Reject(404, "agent not found")
        return None

    def feed(self, frame: Frame) -> list[UserInput | AgentOutput]:
        try:
            message = wire.parse_client(frame)
        except WireError as err:
            return self._unreadable(err)
        match message:
            case wire.UserAudioChunk(user_audio_chunk=raw) if not self.metadata_sent:
                return [ProtocolViolation("audio received before conversation_initiation_metadata",
                                          "invalid_message", 1008)]
            case wire.UserAudioChunk(user_audio_chunk=raw):
                return self._audio_in(raw)
            case wire.Pong(event_id=event_id):
                return [UserPong(event_id)]
        return []  # undocumented messages are ignored

    @staticmethod
    def _unreadable(err: WireError) -> list[UserInput | AgentOutput]:
        """Text that is not JSON gets an ``error``; bad mic audio closes 1008; other
        messages the server cannot read are ignored, as undocumented ones are."""
        if err.kind == JSON:
            shown = err.problem if err.problem.startswith("not ") else f"not valid JSON ({err.problem})"
            return [ErrorOut("invalid_message", f"the message is {shown}")]
        if err.message_type == wire.UserAudioChunk.TYPE:
            return [ProtocolViolation(str(err), "invalid_message", 1008)]
        return []

    def encode(self, output: AgentOutput) -> list[Frame]:
        if isinstance(output, Ready):
            self.metadata_sent = True
        return super().encode(output)
