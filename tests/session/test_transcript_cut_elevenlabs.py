"""An ElevenLabs or PerfVoice reply cut by the user shows what was heard, wherever its
``agent_response`` falls (PROTOCOLS.md: the whole reply text, "sent with the first audio
chunk": just before it, just after it, or, when the cut came at once, after the cut).

``agent_response`` is the reply as written, never as heard, so the transcript's estimate
from the played audio applies to it whether it comes before or after the cut. ElevenLabs'
own ``agent_response_correction`` (sent only when the agent's ``client_events`` enable it)
still wins over the estimate. The session's ``PlaybackFlushed`` comes right after the cut's
``Interruption``, as in ``voicecli.session.incoming``.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from voicecli.protocol.base import DialectConfig
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.protocol.events import Interruption
from voicecli.protocol.perfvoice import PerfVoiceAdapter
from voicecli.secrets import Secret
from voicecli.session.events import PlaybackFlushed
from voicecli.session.transcript import Transcript

RATE = 16000
GROUPS = ["You said: one two three four.", "Five six seven eight nine.", "Ten eleven twelve.",
          "Thirteen fourteen fifteen sixteen."]
REPLY = " ".join(GROUPS)
METADATA = {"type": "conversation_initiation_metadata", "conversation_initiation_metadata_event": {
    "conversation_id": "conv_1", "agent_output_audio_format": "pcm_16000", "user_input_audio_format": "pcm_16000"}}
REPLY_ID = 3


def audio(seconds: float, text: str | None) -> dict[str, Any]:
    """One audio chunk of the reply; with ``text``, ElevenLabs' alignment of its characters
    spread over the chunk."""
    event: dict[str, Any] = {"audio_base_64": base64.b64encode(b"\x10\x00" * int(RATE * seconds)).decode(),
                             "event_id": REPLY_ID}
    if text is not None:
        step = int(seconds * 1000) // len(text)
        event["alignment"] = {"chars": list(text), "char_start_times_ms": [i * step for i in range(len(text))],
                              "char_durations_ms": [step] * len(text)}
    return {"type": "audio", "audio_event": event}


def response(text: str) -> dict[str, Any]:
    return {"type": "agent_response", "agent_response_event": {"agent_response": text, "event_id": REPLY_ID}}


def adapter(dialect: str) -> ElevenLabsAdapter | PerfVoiceAdapter:
    if dialect == "elevenlabs":
        return ElevenLabsAdapter(DialectConfig(url="http://127.0.0.1:9", agent_id="agent_1"))
    return PerfVoiceAdapter(DialectConfig(url="http://127.0.0.1:9", agent_id="agent_1",
                                          api_key=Secret("pk_test_cut_1")))


def play(dialect: str, frames: list[dict[str, Any]], heard: float) -> Transcript:
    feed = adapter(dialect)
    transcript = Transcript()
    for frame in [METADATA, *frames]:
        for event in feed.feed(json.dumps(frame)):
            transcript.apply(event)
            if isinstance(event, Interruption):
                transcript.apply(PlaybackFlushed(dropped_s=0.0, heard_s=heard))
    return transcript


@st.composite
def cut_replies(draw: st.DrawFn, dialect: str) -> tuple[list[dict[str, Any]], float, list[float], str | None]:
    """The frames of one reply cut by the user, the seconds heard, each chunk's seconds, and
    the provider's corrected text (None: no correction was sent)."""
    seconds = [draw(st.sampled_from([0.4, 0.8, 1.2])) for _ in GROUPS]
    sent = draw(st.integers(1, len(GROUPS)))  # chunks played before the cut
    where = draw(st.sampled_from(["before", "with", "late"]))  # agent_response: around chunk 1, or after the cut
    aligned = dialect == "elevenlabs"
    frames: list[dict[str, Any]] = []
    for k in range(sent):
        if k == 0 and where == "before":
            frames.append(response(REPLY))
        frames.append(audio(seconds[k], GROUPS[k] + " " if aligned else None))
        if k == 0 and where == "with":
            frames.append(response(REPLY))
    frames.append({"type": "interruption", "interruption_event": {"event_id": REPLY_ID}})
    if aligned:  # a stale chunk of the cut reply: dropped
        frames.append(audio(0.4, GROUPS[min(sent, len(GROUPS) - 1)]))
    if where == "late":
        frames.append(response(REPLY))
    corrected = None
    if aligned and draw(st.booleans()):
        corrected = " ".join(GROUPS[:draw(st.integers(1, sent))])
        frames.append({"type": "agent_response_correction", "agent_response_correction_event": {
            "original_agent_response": REPLY, "corrected_agent_response": corrected, "event_id": REPLY_ID}})
    heard = draw(st.floats(0.05, sum(seconds[:sent]) - 0.05))
    return frames, heard, seconds[:sent], corrected


@settings(max_examples=150, deadline=None)
@given(reply=cut_replies("elevenlabs"))
def test_an_elevenlabs_reply_cut_shows_what_was_heard_wherever_its_text_came(
        reply: tuple[list[dict[str, Any]], float, list[float], str | None]) -> None:
    frames, heard, seconds, corrected = reply
    (turn,) = play("elevenlabs", frames, heard).visible
    assert turn.interrupted and turn.final
    assert abs(turn.audio_s - sum(seconds)) < 1e-6  # the stale chunk after the cut was dropped
    if corrected is not None:  # the provider's own truncation wins
        assert turn.text.strip() == corrected, (turn.text, corrected)
        return
    shown = turn.text.removesuffix(" …").strip()
    # at least the chunks played whole, at most to the end of the word being played
    whole, elapsed = 0, 0.0
    while whole < len(seconds) and elapsed + seconds[whole] <= heard:
        elapsed += seconds[whole]
        whole += 1
    assert REPLY.startswith(shown), (shown, heard)
    assert len(" ".join(GROUPS[:whole])) <= len(shown) <= len(" ".join(GROUPS[:whole + 1])), (shown, heard)
    assert turn.text.endswith(" …") == (shown != REPLY), turn.text  # marked when less was heard


@settings(max_examples=100, deadline=None)
@given(reply=cut_replies("perfvoice"))
def test_a_perfvoice_reply_cut_shows_the_share_heard_wherever_its_text_came(
        reply: tuple[list[dict[str, Any]], float, list[float], str | None]) -> None:
    """No timings on PerfVoice's audio: the share of the reply's audio that was played."""
    frames, heard, seconds, _corrected = reply
    (turn,) = play("perfvoice", frames, heard).visible
    assert turn.interrupted and turn.final
    words = REPLY.split()
    share = heard / sum(seconds)
    keep = len(words) if share >= 0.98 else math.ceil(len(words) * share)
    assert turn.text.removesuffix(" …").split() == words[:keep], (turn.text, share)


def test_the_whole_text_after_an_early_cut_is_cut_where_it_was_heard() -> None:
    """The order that showed the whole reply: the user cut in on the first chunk, before the
    ``agent_response`` sent with it arrived, and no correction was enabled."""
    frames = [audio(1.0, GROUPS[0] + " "), {"type": "interruption", "interruption_event": {"event_id": REPLY_ID}},
              response(REPLY)]
    (turn,) = play("elevenlabs", frames, heard=0.4).visible
    assert (turn.text, turn.interrupted, turn.final) == ("You said: one …", True, True)
