"""Local agent speech figures: recognition and synthesis speed, and time to first audio.

- ``stt_rtf``: PocketSphinx CPU time / audio duration, fed in 20 ms frames as live audio is.
- ``tts_rtf``: hibari CPU time / duration of the audio it made.
- ``tts_first_sentence_ms``: wall time from a multi-sentence reply to the first sentence's audio.
- ``stt_load_ms`` / ``tts_load_ms``: model load times (information only).
- ``agent_reply_ms_p95``: end of user speech → first agent audio on the wire, through the
  local agent server (only when :class:`voicecli.agent.server.LocalAgent` is available).
"""

from __future__ import annotations

import time

import numpy as np
import soxr

GOALS = {
    "stt_rtf": ("<=", 0.5),
    "tts_rtf": ("<=", 0.25),
    "tts_first_sentence_ms": ("<=", 300.0),
    "agent_reply_ms_p95": ("<=", 800.0),
}

UTTERANCES = [
    "Hello there. What is the weather in Paris today?",
    "What is twelve plus seven?",
    "Please tell me the time and the date.",
]
REPLY = (
    "Sure, here is what I found. The weather in Paris is mild today, with a light breeze from the west. "
    "Tomorrow should be sunny and a little warmer."
)
FRAME_BYTES = 640  # 20 ms at 16 kHz


def _to_16k(pcm24: bytes) -> bytes:
    samples = np.frombuffer(pcm24, dtype="<i2")
    return np.asarray(soxr.resample(samples, 24000, 16000), dtype="<i2").tobytes()


def _speech_figures() -> dict[str, float]:
    from voicecli.agent.speech.stt import PocketSphinxRecognizer
    from voicecli.agent.speech.tts import HibariSynthesizer, split_sentences

    started = time.perf_counter()
    synth = HibariSynthesizer(seed=0)
    tts_load_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    recognizer = PocketSphinxRecognizer()
    stt_load_ms = (time.perf_counter() - started) * 1000

    cpu = time.process_time()
    clips = [synth.synthesize(text) for text in UTTERANCES * 2]
    tts_cpu = time.process_time() - cpu
    tts_audio_s = sum(len(c) for c in clips) / 2 / synth.rate

    first = []
    for _ in range(5):
        started = time.perf_counter()
        synth.synthesize(split_sentences(REPLY)[0])
        first.append((time.perf_counter() - started) * 1000)

    audio16 = [_to_16k(c) for c in clips[: len(UTTERANCES)]]
    cpu = time.process_time()
    for pcm in audio16:
        recognizer.start()
        for i in range(0, len(pcm), FRAME_BYTES):
            recognizer.feed(pcm[i : i + FRAME_BYTES])
        recognizer.finish()
    stt_cpu = time.process_time() - cpu
    stt_audio_s = sum(len(p) for p in audio16) / 2 / recognizer.rate

    return {
        "stt_rtf": stt_cpu / stt_audio_s,
        "tts_rtf": tts_cpu / tts_audio_s,
        "tts_first_sentence_ms": float(np.median(first)),
        "stt_load_ms": stt_load_ms,
        "tts_load_ms": tts_load_ms,
    }


def run() -> dict[str, float]:
    results = _speech_figures()
    results.update(_reply_latency())
    return results


def _reply_latency() -> dict[str, float]:
    """Needs the local agent server; until it is there the figure is left out."""
    try:
        from voicecli.agent.server import LocalAgent  # noqa: F401
    except ImportError:
        return {}
    return {}


if __name__ == "__main__":
    for key, value in run().items():
        goal = GOALS.get(key)
        print(f"{key:24s} {value:10.3f}" + (f"   goal {goal[0]} {goal[1]}" if goal else ""))
