"""Echo cancellation figures, measured on the PulseAudio test bed's room (started here).

The room is ``tests.support.room.PLAUSIBLE`` (a laptop in a small room): the speaker's
monitor comes back into the virtual microphone 80 ms later, the direct path at -6 dB, then
a reverberation tail with an RT60 of 0.3 s and 8 dB less energy than the direct path.
``HARSH`` (the earlier bed's room: a 120 ms tail with 3.6x the direct path's energy) gives an
information row.

- ``aec_erle_db``: echo return loss enhancement of the canceller (AEC3 as it leaves the
  frames, before the residual echo gate, which only adds silence), on echo only (no near
  end) in steady state: per half-second window from the second second of 6 s of
  speech-like agent audio on, the microphone's power over the cancelled power summed over
  the same 10 ms blocks, leaving out of both sums the blocks AEC3 set to digital silence
  (they would make the figure as large as one likes) and those with no echo to remove
  (below -60 dBFS); the median window (a window's worth of the bed's own timing glitches
  does not count: a real room does not move). ``aec_erle_blocks_kept_pct`` (information):
  the share of blocks those sums kept; ``aec_erle_db_harsh`` (information): the same on
  the harsh room.
- ``aec_convergence_ms``: first agent audio → the start of the first run of ten 100 ms
  windows in a row each cancelled by at least 20 dB.
- ``aec_self_interruptions``: a whole session (local agent, echo brain, open mic, no
  near-end speech) with 20 long agent replies: how many did the agent cut short because
  it heard itself, plus the replies it made to nobody (its own echo heard as an utterance
  once a reply had ended). ``aec_self_interruptions_off`` (information): the same with ``--aec off``
  over 10 replies, waiting at most 5 s between them for the agent to stop answering itself.
  ``aec_room_reanchors`` (information): how often the bed's room moved its echo later in
  the run with cancellation (its process starved on a busy machine: a real room's echo
  path does not move, so self-interruptions with re-anchors are the bed's, not the
  canceller's; read the figure on a quiet machine).
- ``aec_double_talk_barge_in_ms``: user speech (hibari's voice) written into the microphone
  a second into a reply → the agent's interruption reaching the client (median of 5), with
  AEC on, from the speech's onset (its first 10 ms above -40 dBFS: hibari starts a clip
  with silence); a reply the agent cuts short before the user speaks counts as a
  self-interruption.
- ``cpu_percent_duplex_aec``: process CPU, % of one core, for 6 s of capture and playback
  with the canceller and its gate in the loop (the bed's threads left out); beside it
  ``cpu_percent_duplex_aec_baseline`` (information): the same loop in the same run without
  it (``cpu_percent_duplex`` of ``bench_audio`` is the same loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.pulse import MIC_RATE, PulseBed  # noqa: E402
from tests.support.room import HARSH, PLAUSIBLE, Acoustics, speechlike  # noqa: E402
from voicecli.audio.aec import ApmEchoCanceller, load_apm  # noqa: E402
from voicecli.audio.capture import DeviceCapture  # noqa: E402
from voicecli.audio.playback import DevicePlayback  # noqa: E402
from voicecli.pcm.convert import float_to_pcm16, pcm16_to_float  # noqa: E402

GOALS = {
    "aec_erle_db": (">=", 30.0),
    "aec_convergence_ms": ("<=", 500.0),
    "aec_self_interruptions": ("==", 0.0),
    "aec_double_talk_barge_in_ms": ("<=", 300.0),
}

OFF_REPLIES = 10  # without cancellation the agent answers its own echo on and on: fewer, shorter waits
VERBOSE = bool(os.environ.get("VOICECLI_BENCH_VERBOSE"))  # each reply's outcome on stderr
LONG_REPLY = ("The weather in Paris today is mild and mostly cloudy, with a light breeze from the west "
              "and a chance of a shower in the afternoon")


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-12))


@contextlib.contextmanager
def served_agent() -> Iterator[tuple[str, str]]:
    """``voicecli serve --brain echo`` in its own process, as a hosted agent would be (its
    speech synthesis must not starve the bed's microphone thread in this one): its URL and key."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = "sk_bench_" + secrets.token_hex(8)
    env = {**os.environ, "VOICECLI_BENCH_AGENT_KEY": key}
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicecli", "serve", "--port", str(port), "--brain", "echo", "--greeting", "",
         "--api-key-env", "VOICECLI_BENCH_AGENT_KEY"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the local agent did not start")
            time.sleep(0.1)
        yield f"ws://127.0.0.1:{port}", key
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def local_adapter(url: str, key: str) -> Any:
    """An atoms adapter for the local agent at ``url``."""
    from voicecli.cli.common import LOCAL_AGENT_ID
    from voicecli.cli.config import Target
    from voicecli.protocol.registry import adapter_class
    from voicecli.secrets import Secret

    target = Target(dialect="atoms", url=url, agent_id=LOCAL_AGENT_ID, key_env="VOICECLI_BENCH_AGENT_KEY")
    return adapter_class("atoms")(target.dialect_config(api_key=Secret(key)))


def _canceller() -> ApmEchoCanceller:
    factory, why = load_apm()
    if factory is None:
        raise RuntimeError(why)
    return ApmEchoCanceller(MIC_RATE, factory)


async def _duplex(bed: PulseBed, seconds: float, aec: ApmEchoCanceller | None,
                  acoustics: Acoustics = PLAUSIBLE) -> dict[str, Any]:
    """Speech-like agent audio at 24 kHz through the room; mic frames through ``aec``
    (``cleaned``: as AEC3 left them, before the guard)."""
    assert bed.mic is not None
    room = bed.room(acoustics)
    play, cap = DevicePlayback(24000), DeviceCapture(MIC_RATE)
    await play.start()
    await cap.start()
    if aec is not None:
        play.add_tap(aec.reference)
    first_audio: list[float] = []
    play.add_tap(lambda pcm, rate, t: first_audio.append(t) if not first_audio else None)
    far = speechlike(24000, seconds, seed=21)
    heard: list[np.ndarray] = []
    cleaned: list[np.ndarray] = []
    times: list[float] = []

    async def consume() -> None:
        async for frame in cap.frames():
            t = cap.last_capture_time
            if aec is not None:
                aec.process(frame, True, t)
            out = aec.cancelled if aec is not None else frame
            times.append(t)
            heard.append(pcm16_to_float(frame))
            cleaned.append(pcm16_to_float(out))

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.5)
    background0 = bed.mic.cpu_seconds + room.cpu_seconds
    cpu0, wall0 = time.process_time(), time.monotonic()
    t = wall0
    for i in range(0, far.size, 480):
        play.write(float_to_pcm16(far[i:i + 480]), 24000)
        t += 0.02
        await asyncio.sleep(max(0.0, t - time.monotonic()))
    cpu = time.process_time() - cpu0 - (bed.mic.cpu_seconds + room.cpu_seconds - background0)
    wall = time.monotonic() - wall0
    await play.drain(2.0)
    await asyncio.sleep(0.3)
    consumer.cancel()
    await cap.close()
    await play.close()
    bed.close_room()
    start = first_audio[0] if first_audio else wall0
    keep = [i for i, ts in enumerate(times) if ts >= start]
    return {"cpu": 100.0 * cpu / wall, "start": start, "t0": times[keep[0]] if keep else start,
            "heard": np.concatenate([heard[i] for i in keep]), "cleaned": np.concatenate([cleaned[i] for i in keep])}


def _erle_and_convergence(run: dict[str, Any]) -> dict[str, float]:
    heard, cleaned = run["heard"], run["cleaned"]
    block = MIC_RATE // 100
    n = heard.size // block
    mic_p = np.mean(np.asarray(heard[:n * block], np.float64).reshape(n, block) ** 2, axis=1)
    out_b = np.asarray(cleaned[:n * block], np.float64).reshape(n, block)
    out_p = np.mean(out_b ** 2, axis=1)
    # blocks AEC3 set to digital silence say nothing of how much echo it removed: left out of
    # both sums, as are blocks with no echo to remove (pauses of the far end)
    kept = np.any(out_b != 0.0, axis=1) & (mic_p > 1e-6)
    windows = []
    for k in range(100, n - 50, 50):  # half seconds, from the second second on
        sel = kept[k:k + 50]
        if sel.sum() >= 10:
            windows.append(10 * np.log10(mic_p[k:k + 50][sel].sum() / (out_p[k:k + 50][sel].sum() + 1e-20)))
    tenth = MIC_RATE // 10
    good = [_db(heard[k:k + tenth]) - _db(cleaned[k:k + tenth]) >= 20.0 for k in range(0, heard.size - tenth, tenth)]
    first = next((i for i in range(len(good) - 9) if all(good[i:i + 10])), None)
    lead_ms = (run["t0"] - run["start"]) * 1000.0
    steady = kept[100:]
    return {"aec_erle_db": float(np.median(windows)) if windows else float("nan"),
            "aec_erle_blocks_kept_pct": 100.0 * float(steady.mean()) if steady.size else 0.0,
            "aec_convergence_ms": float("inf") if first is None else first * 100.0 + lead_ms}


def speech_onset_s(samples: np.ndarray, rate: int, threshold_db: float = -40.0) -> float:
    """Where speech starts in a clip: its first 10 ms louder than ``threshold_db`` (the
    synthesizer leaves a moment of silence before the first word)."""
    x = np.asarray(samples, np.float64) / (32768.0 if samples.dtype == np.int16 else 1.0)
    w = rate // 100
    levels = [_db(x[k:k + w]) for k in range(0, x.size - w, w)]
    return next((k / 100 for k, level in enumerate(levels) if level > threshold_db), 0.0)


async def _replies(bed: PulseBed, mode: str, replies: int, barge_ins: int = 0,
                   acoustics: Acoustics = PLAUSIBLE, quiet_limit: float = 60.0) -> dict[str, float]:
    """A session with the local agent on the room: ``replies`` long replies left alone,
    then ``barge_ins`` replies the user talks over (AEC per ``mode``). Each reply is asked
    for once the conversation is quiet (the agent's answer to a barge-in finished too)."""
    from voicecli.agent.speech.tts import HibariSynthesizer
    from voicecli.audio.backends import SoundDeviceBackend
    from voicecli.protocol.commands import SendText
    from voicecli.protocol.events import AgentAudio, AgentStartedTalking, AgentStoppedTalking, Event, Interruption
    from voicecli.session import Session, SessionOptions
    from voicecli.session.events import AudioStatus

    mic = bed.mic
    assert mic is not None
    tts = HibariSynthesizer(warm_up=False, seed=1)
    user = np.frombuffer(tts.synthesize("Wait, stop, I have another question for you."), dtype="<i2")
    onset_s = speech_onset_s(user, tts.rate)
    room = bed.room(acoustics)
    backend = SoundDeviceBackend()
    interrupted = 0
    barge_ms: list[float] = []
    queue: asyncio.Queue[Event] = asyncio.Queue()

    async def next_event(timeout: float) -> Event | None:
        try:
            return await asyncio.wait_for(queue.get(), timeout)
        except TimeoutError:
            return None

    async def quiet(seconds: float = 1.0, limit: float = quiet_limit, expect: int = 0) -> int:
        """Until no agent audio came for ``seconds`` since the user's audio was all written,
        and the agent started ``expect`` replies (its answer to a barge-in: the user's turn
        ends a hangover after the voice, so that answer begins after the microphone went
        quiet); returns how many replies the agent started meanwhile."""
        last, end, started = time.monotonic(), time.monotonic() + limit, 0
        while time.monotonic() < end and (time.monotonic() - last < seconds or started < expect):
            event = await next_event(0.05)
            if not mic.idle():  # the quiet counts from the user's last sample on
                last = time.monotonic()
            if isinstance(event, (AgentAudio, AgentStartedTalking)):
                last = time.monotonic()
                started += isinstance(event, AgentStartedTalking)
        return started

    try:
        with served_agent() as (url, key):
            session = Session(local_adapter(url, key), backend, SessionOptions(aec=mode))
            runner = asyncio.create_task(session.run())

            async def pump() -> None:
                async for event in session.events():
                    queue.put_nowait(event)

            pumping = asyncio.create_task(pump())
            async with asyncio.timeout(20):
                while not isinstance(await queue.get(), AudioStatus):
                    pass
            for i in range(replies + barge_ins):
                # a reply while nobody spoke: the agent heard itself after its last one ended
                # (after a barge-in, the agent answers the user: that one is expected)
                expected = 1 if i > replies else 0
                answered = await quiet(expect=expected)
                interrupted += max(0, answered - expected)
                if VERBOSE and answered:
                    print(f"  aec {mode}: {answered} repl(ies) to nobody before reply {i + 1}", file=sys.stderr)
                session.submit(SendText(f"{LONG_REPLY}, reply {i + 1}"))
                marks = len(mic.marks)
                talk_at, outcome = 0.0, "timeout"
                end = time.monotonic() + 60
                while time.monotonic() < end:
                    event = await next_event(end - time.monotonic())
                    if isinstance(event, AgentStartedTalking) and not talk_at:
                        talk_at = time.monotonic()
                        if i >= replies:  # the user talks over the agent a second in
                            asyncio.get_running_loop().call_later(1.0, mic.play, user, tts.rate)
                    elif isinstance(event, Interruption):
                        outcome = "interrupted"
                        break
                    elif isinstance(event, AgentStoppedTalking) and talk_at:
                        outcome = "finished"
                        break
                spoke = mic.marks[marks:]
                onset = spoke[0][0] + onset_s if spoke else None
                if outcome == "interrupted" and i >= replies and onset is not None and onset <= time.monotonic():
                    barge_ms.append((time.monotonic() - onset) * 1000.0)
                elif outcome != "finished":  # cut before the user spoke, or it never finished
                    interrupted += 1
                if VERBOSE:
                    print(f"  aec {mode}: reply {i + 1} {outcome} after {time.monotonic() - talk_at:.2f} s"
                          if talk_at else f"  aec {mode}: reply {i + 1} {outcome}", file=sys.stderr)
            expected = 1 if barge_ins else 0
            interrupted += max(0, await quiet(expect=expected) - expected)
            session.close()
            async with asyncio.timeout(10):
                await runner
            pumping.cancel()
    finally:
        await backend.close()
        bed.close_room()
    # the room re-anchors its clock when its process starved for a second or more: the echo
    # path moved then (a real room's does not), and what the canceller missed can follow
    out = {"interruptions": float(interrupted), "reanchors": float(room.anchors - 1)}
    if barge_ins:
        out["barge_in_ms"] = float(np.median(barge_ms)) if barge_ms else float("inf")
    return out


async def _run_all() -> dict[str, float]:
    results: dict[str, float] = {}
    with PulseBed(mic_chunk_ms=10) as bed:
        on = await _duplex(bed, 6.0, _canceller())
        results.update(_erle_and_convergence(on))
        results["cpu_percent_duplex_aec"] = on["cpu"]
        results["cpu_percent_duplex_aec_baseline"] = (await _duplex(bed, 6.0, None))["cpu"]
        harsh = _erle_and_convergence(await _duplex(bed, 6.0, _canceller(), HARSH))
        results["aec_erle_db_harsh"] = harsh["aec_erle_db"]
        with_aec = await _replies(bed, "on", 20, barge_ins=5)
        results["aec_self_interruptions"] = with_aec["interruptions"]
        results["aec_double_talk_barge_in_ms"] = with_aec["barge_in_ms"]
        results["aec_room_reanchors"] = with_aec["reanchors"]
        off = await _replies(bed, "off", OFF_REPLIES, quiet_limit=5.0)
        results["aec_self_interruptions_off"] = off["interruptions"]
    return results


def run() -> dict[str, float]:
    return asyncio.run(_run_all())


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:36s} {value:10.3f}")
