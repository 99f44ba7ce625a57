"""Local agent speech figures: recognition and synthesis speed, and time to first audio.

- ``stt_rtf``: PocketSphinx CPU time / audio duration, fed in 20 ms frames as live audio is.
- ``tts_rtf``: hibari CPU time / duration of the audio it made.
- ``tts_first_sentence_ms``: wall time from a multi-sentence reply to the first sentence's audio.
- ``stt_load_ms`` / ``tts_load_ms``: model load times (information only).
- ``agent_reply_ms_p95`` (and ``_p50``): end of user speech → first agent audio on the wire,
  through the local agent server over the Atoms protocol with the rules brain, questions spoken
  by hibari in real time (only when :class:`voicecli.agent.server.LocalAgent` is available).
  It includes the VAD's 600 ms hangover. ``agent_heard_ratio``: the share of those questions
  whose user transcript held the expected key word.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

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
QUESTIONS = [  # (what hibari asks, a word the recogniser must hear)
    ("What is twelve plus seven?", "plus"),
    ("What time is it?", "time"),
    ("Three times four.", "times"),
    ("What is nine minus two?", "minus"),
    ("Help.", "help"),
    ("What is one hundred divided by four?", "divided"),
]
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
    """Through the real server over the Atoms protocol; left out when it is not available."""
    try:
        from voicecli.agent.server import LocalAgent  # noqa: F401
    except ImportError:
        return {}
    return asyncio.run(_measure_replies())


def _trim_quiet_end(pcm: bytes, rate: int, floor_db: float = -45.0) -> bytes:
    """Cut the clip right after its last 10 ms window louder than ``floor_db``."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    window = rate // 100
    loud = 32768 * 10 ** (floor_db / 20)
    last = 0
    for start in range(0, samples.size - window + 1, window):
        if np.sqrt(np.mean(samples[start : start + window] ** 2)) >= loud:
            last = start + window
    return pcm[: 2 * last]


async def _measure_replies() -> dict[str, float]:
    from websockets.asyncio.client import connect

    from voicecli.agent.config import AgentConfig
    from voicecli.agent.server import LocalAgent
    from voicecli.agent.speech.tts import HibariSynthesizer

    synth = HibariSynthesizer(seed=0)
    clips = [_trim_quiet_end(_to_16k(synth.synthesize(q)), 16000) for q, _ in QUESTIONS]
    agent = LocalAgent(AgentConfig(brain="rules", greeting=""))
    await agent.start()
    latencies: list[float] = []
    heard: list[str] = []
    try:
        url = agent.url.replace("http", "ws", 1) + "/atoms/v1/agent/connect?agent_id=bench&sample_rate=16000"
        for clip in clips:  # one call per question: no waiting for the previous reply to end
            async with connect(url, max_size=None) as ws:
                created = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if created.get("type") != "session.created":
                    raise RuntimeError(f"unexpected first message: {created}")
                latency, text = await _one_turn(ws, clip)
                latencies.append(latency)
                heard.append(text)
    finally:
        await agent.stop()
    return {
        "agent_reply_ms_p95": float(np.percentile(latencies, 95)),
        "agent_reply_ms_p50": float(np.percentile(latencies, 50)),
        "agent_heard_ratio": sum(word in text for (_, word), text in zip(QUESTIONS, heard, strict=True))
        / len(QUESTIONS),
    }


async def _one_turn(ws: Any, clip: bytes) -> tuple[float, str]:
    """Stream one question in real time, then silence.

    Returns the ms from the end of the question to the first reply audio, and what the agent heard.
    """
    loop = asyncio.get_running_loop()
    first_audio = loop.create_future()

    heard = ""

    async def listen() -> None:
        nonlocal heard
        while not first_audio.done():
            message = json.loads(await ws.recv())
            if message.get("type") == "transcript" and message.get("role") == "user":
                heard = str(message.get("text", "")).lower()
            if message.get("type") == "output_audio.delta":
                first_audio.set_result(time.monotonic())

    listener = asyncio.create_task(listen())
    silence = bytes(FRAME_BYTES)
    frames = [clip[i : i + FRAME_BYTES] for i in range(0, len(clip), FRAME_BYTES)]
    start = time.monotonic()
    speech_end = 0.0
    sent = 0
    while not first_audio.done() and sent < len(frames) + 250:  # at most 5 s of trailing silence
        frame = frames[sent] if sent < len(frames) else silence
        payload = {"type": "input_audio_buffer.append", "audio": base64.b64encode(frame).decode()}
        await ws.send(json.dumps(payload))
        sent += 1
        if sent == len(frames):
            speech_end = time.monotonic()
        await asyncio.sleep(max(0.0, start + sent * 0.02 - time.monotonic()))
    if not first_audio.done():
        listener.cancel()
        raise RuntimeError("the agent did not answer within 5 s of the end of speech")
    replied: float = first_audio.result()
    return (replied - speech_end) * 1000, heard


if __name__ == "__main__":
    for key, value in run().items():
        goal = GOALS.get(key)
        print(f"{key:24s} {value:10.3f}" + (f"   goal {goal[0]} {goal[1]}" if goal else ""))
