"""Conversations as the hosted services send them: hypothesis strategies that build, per
dialect, the frames a vendor-legal server sends for a scripted conversation, in any order
the vendor's protocol allows.

A conversation is a list of :class:`Exchange` (the user's input, then the agent's reply).
Each dialect's ``script_*`` function turns it into :class:`Step` values: server frames and
the client's typed messages, in one order among the legal ones. What the transcript must
show afterwards is known from the exchanges alone (:func:`expected_reply`,
:func:`expected_audio_s`), so the tests can check the invariants whatever order was drawn.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from hypothesis import strategies as st

RATE = 16000
CHUNK_MS = 40


@dataclass(frozen=True)
class Exchange:
    """One user input and the agent's reply to it (``user`` None: the agent's greeting)."""

    number: int
    user: str | None
    typed: bool
    reply_words: int
    chunks: int
    cut_after: int | None = None  # chunks heard before the user barged in; None: not cut
    variant: str = "real"  # the dialect's own order family (see the script functions)
    late_cut: bool = False  # the interruption's frames come after the next user input began

    @property
    def reply(self) -> str:
        return " ".join([f"r{self.number}"] + [f"w{self.number}x{k}" for k in range(1, self.reply_words)])

    @property
    def heard(self) -> str:
        """The reply truncated to what was heard when cut (at least its first word)."""
        if self.cut_after is None:
            return self.reply
        words = self.reply.split()
        keep = max(1, min(len(words) - 1, len(words) * self.cut_after // max(1, self.chunks)))
        return " ".join(words[:keep])


@dataclass
class Step:
    kind: str  # "server" (a frame) | "type" (the client sends typed text) | "mark" (a turn starts)
    value: str | bytes = ""


@dataclass
class Script:
    steps: list[Step] = field(default_factory=list)

    def server(self, message: dict[str, object] | bytes) -> None:
        self.steps.append(Step("server", message if isinstance(message, bytes) else json.dumps(message)))

    def user_typed(self, text: str) -> None:
        self.steps.append(Step("type", text))

    def mark(self) -> None:
        self.steps.append(Step("mark"))

    def user_turn(self, ex: Exchange, spoken: list[dict[str, object]], pending: list[dict[str, object]]) -> None:
        """The user's input (typed, or the server's ``spoken`` transcript frames), then the
        frames that were waiting for it (a cut reply's late messages)."""
        self.mark()
        if ex.typed:
            self.user_typed(ex.user or "")
        else:
            for message in spoken:
                self.server(message)
        for message in pending:
            self.server(message)
        pending.clear()


def pcm_chunk(value: int = 2000) -> bytes:
    return value.to_bytes(2, "little", signed=True) * (RATE * CHUNK_MS // 1000)


def b64_chunk() -> str:
    return base64.b64encode(pcm_chunk()).decode()


def expected_reply(ex: Exchange) -> str:
    return ex.heard


def expected_audio_s(ex: Exchange) -> float:
    """Agent audio the client keeps for the reply (stale chunks after a cut are dropped)."""
    played = ex.chunks if ex.cut_after is None else ex.cut_after
    return played * CHUNK_MS / 1000


@st.composite
def conversations(draw: st.DrawFn, variants: tuple[str, ...], typed: bool = True,
                  spoken: bool = True, cuts: bool = True, greeting: bool = True,
                  max_exchanges: int = 4) -> list[Exchange]:
    count = draw(st.integers(1, max_exchanges))
    exchanges: list[Exchange] = []
    with_greeting = greeting and draw(st.booleans())
    for number in range(count):
        is_greeting = with_greeting and number == 0
        chunks = draw(st.integers(1, 4))
        cut = None
        last = number == count - 1
        if cuts and not is_greeting and not last and draw(st.booleans()):
            cut = draw(st.integers(1, chunks))
        modes = [m for m, ok in (("typed", typed), ("spoken", spoken)) if ok]
        exchanges.append(Exchange(
            number=number,
            user=None if is_greeting else f"q{number} question",
            typed=(not is_greeting) and draw(st.sampled_from(modes)) == "typed",
            reply_words=draw(st.integers(2, 6)),
            chunks=chunks,
            cut_after=cut,
            variant=draw(st.sampled_from(variants)),
            late_cut=cut is not None and draw(st.booleans()),
        ))
    return exchanges


# ---- ElevenLabs (and PerfVoice: the same message names) --------------------------------------

def _el_user(script: Script, ex: Exchange, event_id: int, pings: list[bool], perfvoice: bool) -> None:
    script.mark()
    if ex.typed:
        script.user_typed(ex.user or "")
        return
    assert ex.user is not None
    if not perfvoice:
        words = ex.user.split()
        for k in range(1, len(words)):
            script.server({"type": "tentative_user_transcript", "tentative_user_transcription_event": {
                "user_transcript": " ".join(words[:k]), "event_id": event_id}})
            _maybe_ping(script, pings)
    script.server({"type": "user_transcript", "user_transcription_event": {
        "user_transcript": ex.user, "event_id": event_id}})


_PING_ID = [0]


def _maybe_ping(script: Script, pings: list[bool]) -> None:
    if pings and pings.pop():
        _PING_ID[0] += 1
        script.server({"type": "ping", "ping_event": {"event_id": _PING_ID[0], "ping_ms": 30}})


def script_elevenlabs(exchanges: list[Exchange], pings: list[bool], perfvoice: bool = False) -> Script:
    """Variants: ``real`` (agent_response just before the first audio chunk, as the hosted
    service sends it), ``with`` (right after the first chunk), ``parts`` (streamed
    agent_chat_response_part deltas, then agent_response with the first chunk), ``last``
    (agent_response after the whole audio: the order older local agents used). A cut
    reply gets ``interruption`` (late or at once), stale chunks, and
    ``agent_response_correction`` (ElevenLabs) or nothing more (PerfVoice)."""
    script = Script()
    event_id = 0
    pending_cut: list[tuple[Exchange, int]] = []
    for ex in exchanges:
        event_id += 1
        if ex.user is not None:
            _el_user(script, ex, event_id, pings, perfvoice)
            for cut_ex, cut_id in pending_cut:
                _el_cut(script, cut_ex, cut_id, perfvoice)
            pending_cut.clear()
            event_id += 1
        reply_id = event_id
        text_msg = {"type": "agent_response", "agent_response_event": {"agent_response": ex.reply,
                                                                       "event_id": reply_id}}
        audio_msg = {"type": "audio", "audio_event": {"audio_base_64": b64_chunk(), "event_id": reply_id}}
        sent = ex.chunks if ex.cut_after is None else ex.cut_after
        variant = "real" if perfvoice and ex.variant == "parts" else ex.variant
        if variant == "parts":
            script.server({"type": "agent_chat_response_part", "text_response_part": {
                "text": "", "type": "start", "event_id": reply_id}})
            for word in ex.reply.split():
                script.server({"type": "agent_chat_response_part", "text_response_part": {
                    "text": word + " ", "type": "delta", "event_id": reply_id}})
            script.server({"type": "agent_chat_response_part", "text_response_part": {
                "text": "", "type": "stop", "event_id": reply_id}})
        for k in range(sent):
            if k == 0 and variant in ("real", "parts"):
                script.server(text_msg)
            script.server(audio_msg)
            if k == 0 and variant == "with":
                script.server(text_msg)
            _maybe_ping(script, pings)
        if ex.cut_after is None:
            if variant == "last":
                script.server(text_msg)
            continue
        pending = (ex, reply_id)
        if ex.late_cut:
            pending_cut.append(pending)
        else:
            _el_cut(script, *pending, perfvoice)
    return script


def _el_cut(script: Script, ex: Exchange, reply_id: int, perfvoice: bool) -> None:
    script.server({"type": "interruption", "interruption_event": {"event_id": reply_id}})
    script.server({"type": "audio", "audio_event": {"audio_base_64": b64_chunk(), "event_id": reply_id}})
    if ex.variant == "last":
        script.server({"type": "agent_response", "agent_response_event": {"agent_response": ex.heard,
                                                                           "event_id": reply_id}})
    elif not perfvoice:
        script.server({"type": "agent_response_correction", "agent_response_correction_event": {
            "original_agent_response": ex.reply, "corrected_agent_response": ex.heard, "event_id": reply_id}})


def expected_el_reply(ex: Exchange, perfvoice: bool) -> str:
    """PerfVoice sends no correction: a cut reply keeps its whole text there."""
    if perfvoice and ex.cut_after is not None and ex.variant != "last":
        return ex.reply
    return ex.heard


# ---- Atoms ----------------------------------------------------------------------------------

def script_atoms(exchanges: list[Exchange]) -> Script:
    """Variants: ``real`` (agent_start_talking, audio with cumulative transcript.delta word
    by word, agent_stop_talking, then the final transcript), ``late`` (the final
    transcript only after the next user turn began), ``chat`` (text only: the final
    transcript alone, no talking events or audio). A cut reply: ``interruption``, a stale
    delta (dropped), then the truncated final transcript (at once or after the next input)."""
    script = Script()
    pending: list[dict[str, object]] = []
    for ex in exchanges:
        if ex.user is not None:
            words = ex.user.split()
            spoken: list[dict[str, object]] = [
                {"type": "transcript.delta", "role": "user", "text": " ".join(words[:k])}
                for k in range(1, len(words) + 1)]
            script.user_turn(ex, [*spoken, {"type": "transcript", "role": "user", "text": ex.user}], pending)
        if ex.variant == "chat":  # no speech: nothing to interrupt, the final text is the reply
            script.server({"type": "transcript", "role": "assistant", "text": ex.heard})
            continue
        script.server({"type": "agent_start_talking", "timestamp": "2026-07-02T10:30:45.123456"})
        words = ex.reply.split()
        sent = ex.chunks if ex.cut_after is None else ex.cut_after
        for k in range(sent):
            script.server({"type": "output_audio.delta", "audio": b64_chunk()})
            shown = max(1, len(words) * (k + 1) // ex.chunks)
            script.server({"type": "transcript.delta", "role": "assistant", "text": " ".join(words[:shown])})
        final = {"type": "transcript", "role": "assistant", "text": ex.heard}
        if ex.cut_after is not None:
            cut = [{"type": "interruption"}, {"type": "output_audio.delta", "audio": b64_chunk()},
                   {"type": "agent_stop_talking", "timestamp": "2026-07-02T10:30:46.0"}, final]
            if ex.late_cut:
                pending.extend(cut)
            else:
                for message in cut:
                    script.server(message)
            continue
        script.server({"type": "agent_stop_talking", "timestamp": "2026-07-02T10:30:46.0"})
        if ex.variant == "late":
            pending.append(final)
        else:
            script.server(final)
    for message in pending:
        script.server(message)
    return script


def expected_atoms_audio(ex: Exchange) -> float:
    return 0.0 if ex.variant == "chat" else expected_audio_s(ex)


def expected_cut(ex: Exchange) -> bool:
    return ex.cut_after is not None and ex.variant != "chat"


# ---- VoiceAgent -----------------------------------------------------------------------------

def script_voiceagent(exchanges: list[Exchange]) -> Script:
    """The SDK's order (PROTOCOLS.md D): stream_start, text_start/deltas/text_end,
    speech_stream_start, audio_chunks, stream_finish + response_complete when the TEXT is
    done (``real``: after 0..n of the chunks; the rest trail it), speech_stream_end.
    Variant ``legacy``: response_complete after the speech ended. A reply is cut by the next
    user input (typed text interrupts the stream on the server): the input, then
    speech_interrupted, stream_abort + response_complete with the partial text,
    speech_stream_end."""
    script = Script()
    chunk_id = 0
    pending: list[dict[str, object]] = []
    for ex in exchanges:
        if ex.user is not None:
            script.user_turn(ex, [{"type": "transcription_result", "text": ex.user, "language": "en"}], pending)
        script.server({"type": "stream_start"})
        script.server({"type": "text_start", "id": f"t{ex.number}"})
        words = ex.reply.split()
        cut = ex.cut_after is not None
        shown_words = ex.heard.split() if cut else words
        for word in shown_words:
            script.server({"type": "text_delta", "id": f"t{ex.number}", "text": word + " "})
        complete = [{"type": "stream_finish", "finishReason": "stop", "usage": {}},
                    {"type": "response_complete", "text": ex.reply, "toolCalls": [], "toolResults": []}]
        if not cut:
            script.server({"type": "text_end", "id": f"t{ex.number}"})
        script.server({"type": "speech_stream_start"})
        sent = ex.chunks if not cut else ex.cut_after or 0
        complete_after = ex.chunks if ex.variant == "legacy" else (ex.number * 7 + ex.chunks) % (ex.chunks + 1)
        for k in range(sent):
            if not cut and k == complete_after:
                for message in complete:
                    script.server(message)
            script.server({"type": "audio_chunk", "chunkId": chunk_id, "data": b64_chunk(), "format": "pcm",
                           "text": ex.reply})
            chunk_id += 1
        if cut:
            abort = [{"type": "speech_interrupted", "reason": "user_speaking"},
                     {"type": "stream_abort", "reason": "user_speaking"},
                     {"type": "response_complete", "text": ex.heard, "toolCalls": [], "toolResults": []},
                     {"type": "speech_stream_end"}]
            pending.extend(abort)  # the next user input is what cuts it
            continue
        if complete_after >= ex.chunks and ex.variant != "legacy":
            for message in complete:
                script.server(message)
        script.server({"type": "speech_stream_end"})
        if ex.variant == "legacy":
            for message in complete:
                script.server(message)
    for message in pending:
        script.server(message)
    return script
