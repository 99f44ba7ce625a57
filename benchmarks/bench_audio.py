"""Audio engine figures, measured on the private PulseAudio test bed (started here).

Each latency and CPU figure has a floor measured in the same run (the machine is shared and
noisy: compare the difference, not the absolute value); ``*_over_floor*`` carry the goals.

- ``barge_in_ms_p95``: ``flush()`` call → end of the last callback that still produced
  agent audio (0 when the next callback is already silent).
- ``barge_in_monitor_ms_p50``: ``flush()`` → last loud block read back from the speaker's
  monitor, i.e. as heard, including PulseAudio's own buffering; ``barge_in_monitor_floor_ms_p50``:
  the same for a minimal client (a 10 ms callback that empties its queue on flush), round by
  round in turn with voicecli; ``barge_in_monitor_over_floor_ms``: the difference.
- ``mic_to_wire_ms_p95``: newest sample of a frame written into the virtual microphone (the
  bed feeds it in 10 ms chunks, as a sound card delivers periods) → the frame handed out of
  ``frames()``. Includes the sound server, PortAudio's block, the resampler's delay and
  the event loop hop; not the 20 ms the frame takes to fill. ``mic_to_wire_floor_ms_p95``:
  the same for a minimal client (16 kHz int16 from the server, 10 ms blocks, each 20 ms
  frame handed over as soon as it is whole); three 3 s windows of each, in turn: the median
  window's figures, and ``mic_to_wire_over_floor_ms``, the median of the differences.
- ``wire_to_speaker_ms`` (median) and ``_p95``: first chunk of an utterance written → its first
  sample in the output callback, agent audio streamed as 20 ms chunks each late by 0-30 ms;
  ``wire_to_speaker_underruns``: times the buffer ran dry mid-utterance in that run.
- ``alias_rejection_db``: worst alias level below a full tone for the polyphase resampler
  (capture and playback), 48 and 44.1 kHz → 16 kHz in 10 ms chunks, tones across the stop
  band; ``alias_rejection_db_naive``: the same for nearest-sample decimation.
- ``cpu_percent_duplex``: process CPU while capture and playback run together for 3 s
  (mic frames consumed, 20 ms agent chunks played), % of one core; the test bed's own
  feeder thread is left out. ``cpu_percent_duplex_floor``: the same with PortAudio streams
  whose callbacks do nothing, i.e. the part no engine code can remove. Four windows of each,
  in turn: the medians, and ``cpu_percent_duplex_over_floor``, the median difference.
  ``cpu_percent_duplex_minimal`` (information): the minimal clients of :mod:`benchmarks.floors`
  in the same harness and rounds (its event loop wakes for each 20 ms chunk written and
  frame read, as any client's must), and ``_minimal_over_floor``: what such a client costs
  over empty callbacks.
- ``talk_idle_cpu_percent``: ``voicecli talk --aec off`` idle with open mic and speaker (see
  :mod:`benchmarks.talk_idle`); ``talk_idle_cpu_over_duplex_floor`` (information): less the
  duplex floor of this run (talk's two open streams cost at least that much);
  ``talk_idle_cpu_percent_aec`` (information): plain ``talk``, which cancels echo by default
  (its cost is the echo benchmark's, ``cpu_percent_duplex_aec``).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.floors import MinimalCapture, MinimalPlayback  # noqa: E402
from benchmarks.talk_idle import talk_idle_cpu  # noqa: E402
from tests.support.pulse import MIC_RATE, PulseBed  # noqa: E402
from voicecli.audio.capture import DeviceCapture  # noqa: E402
from voicecli.audio.playback import DevicePlayback  # noqa: E402
from voicecli.audio.resample import PolyphaseResampler  # noqa: E402
from voicecli.pcm.convert import float_to_pcm16  # noqa: E402

GOALS = {
    "barge_in_ms_p95": ("<=", 20.0),
    "barge_in_monitor_over_floor_ms": ("<=", 10.0),
    "mic_to_wire_over_floor_ms": ("<=", 12.0),
    "cpu_percent_duplex_over_floor": ("<=", 0.5),
    "talk_idle_cpu_percent": ("<=", 2.0),
    "wire_to_speaker_ms": ("<=", 60.0),
    "wire_to_speaker_underruns": ("<=", 0.0),
    "alias_rejection_db": (">=", 90.0),
}


def _tone(freq: float, rate: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)).astype(np.float32)


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def _heard_stop_ms(bed: PulseBed, play: Any) -> tuple[float, float | None]:
    """One barge-in: a tone plays, ``flush()`` comes 0.2-0.3 s in. Returns the flush time
    and the ms from it to the last loud block read back from the speaker's monitor (None:
    nothing was heard)."""
    mon = bed.monitor(rate=48000)
    await asyncio.sleep(0.05)
    play.write(float_to_pcm16(_tone(500, 24000, 1.0)), 24000)
    await asyncio.sleep(random.uniform(0.2, 0.3))
    t_flush = time.monotonic()
    play.flush()
    await asyncio.sleep(0.25)
    mon.stop()
    loud = [t for t, chunk in mon.chunks if chunk.size and np.max(np.abs(chunk)) > 0.05]
    return t_flush, (max(0.0, loud[-1] - t_flush) * 1000 if loud else None)


async def _barge_in(bed: PulseBed, rounds: int = 15) -> dict[str, float]:
    """voicecli's playback and the minimal client take turns, round by round, so that both
    see the same machine load."""
    play = DevicePlayback(24000)
    floor = MinimalPlayback(24000)
    await play.start()
    await floor.start()
    ours: list[float] = []
    monitor: list[float] = []
    floor_monitor: list[float] = []
    try:
        for _ in range(rounds):
            t_flush, heard = await _heard_stop_ms(bed, play)
            ours.append(max(0.0, play.last_audible_callback - t_flush) * 1000)
            if heard is not None:
                monitor.append(heard)
            _, heard = await _heard_stop_ms(bed, floor)
            if heard is not None:
                floor_monitor.append(heard)
    finally:
        await play.close()
        await floor.close()
    p50, floor_p50 = _p(monitor, 50), _p(floor_monitor, 50)
    return {"barge_in_ms_p95": _p(ours, 95), "barge_in_monitor_ms_p50": p50,
            "barge_in_monitor_floor_ms_p50": floor_p50, "barge_in_monitor_over_floor_ms": p50 - floor_p50}


async def _mic_to_wire(bed: PulseBed, cap: Any, seconds: float = 4.0) -> list[float]:
    """Each frame's newest sample is traced back to the moment the test bed wrote it into
    the virtual microphone (aligned once with a click), so this is the whole path: sound
    server, PortAudio, our callback, the resampler's delay and the event loop hop."""
    mic = bed.mic
    assert mic is not None
    await cap.start()
    handed: list[tuple[float, bytes]] = []
    click = np.zeros(MIC_RATE // 10, dtype=np.float32)
    click[0] = 0.9
    marks_before = len(mic.marks)
    try:
        t_end = time.monotonic() + seconds
        clicked = False
        async for frame in cap.frames():
            handed.append((time.monotonic(), frame))
            if not clicked and len(handed) == 15:
                mic.play(click)
                clicked = True
            if time.monotonic() > t_end:
                break
    finally:
        await cap.close()
    n = len(handed[0][1]) // 2
    audio = np.concatenate([np.frombuffer(f, dtype="<i2") for _, f in handed]).astype(np.float32) / 32768
    if len(mic.marks) <= marks_before or np.max(np.abs(audio)) < 0.3:
        raise RuntimeError("the click written into the virtual microphone never arrived")
    ours = int(np.argmax(np.abs(audio)))
    offset = mic.marks[marks_before][1] - ours  # FIFO sample index = our sample index + offset
    chunk = MIC_RATE * mic.chunk_ms // 1000
    written = {first // chunk: t for t, first in mic.writes}
    lat = []
    # from the click on: frames before it may be the sound server's backlog of the FIFO
    # (written while nobody recorded), which says nothing about the client
    for i, (t_handed, _) in enumerate(handed[ours // n :], start=ours // n):
        newest = (i + 1) * n - 1 + offset
        t_written = written.get(newest // chunk)
        if t_written is not None and newest >= 0:
            lat.append((t_handed - t_written) * 1000)
    return lat


async def _mic_to_wire_vs_floor(bed: PulseBed, rounds: int = 3) -> dict[str, float]:
    """voicecli and the minimal client in turn, ``rounds`` windows each: the figures of the
    median round (a stall of the shared machine lands in one window, not in the goal)."""
    ours: list[list[float]] = []
    floor: list[list[float]] = []
    for _ in range(rounds):
        ours.append(await _mic_to_wire(bed, DeviceCapture(16000), seconds=3.0))
        floor.append(await _mic_to_wire(bed, MinimalCapture(16000), seconds=3.0))
    p95 = [_p(a, 95) for a in ours]
    floor_p95 = [_p(b, 95) for b in floor]
    return {"mic_to_wire_ms_p95": _p(p95, 50), "mic_to_wire_ms_p50": _p([_p(a, 50) for a in ours], 50),
            "mic_to_wire_floor_ms_p95": _p(floor_p95, 50),
            "mic_to_wire_over_floor_ms": _p([a - b for a, b in zip(p95, floor_p95, strict=True)], 50)}


async def _wire_to_speaker(utterances: int = 12) -> dict[str, float]:
    play = DevicePlayback(24000)
    await play.start()
    starts: list[float] = []
    chunk = float_to_pcm16(_tone(300, 24000, 0.02, amp=0.3))
    rng = random.Random(7)
    try:
        for _ in range(utterances):
            t0 = time.monotonic()
            first_write = 0.0
            for i in range(25):  # 0.5 s of audio in 20 ms chunks, each late by 0-30 ms
                due = t0 + i * 0.02 + rng.uniform(0.0, 0.03)
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if i == 0:
                    first_write = time.monotonic()
                play.write(chunk, 24000)
            await play.drain(2.0)
            first_start = [t for t in play.run_starts if t >= first_write]
            if first_start:
                starts.append((first_start[0] - first_write) * 1000)
            await asyncio.sleep(0.6)  # a pause between utterances: not an underrun
        underruns = float(play.underruns)
    finally:
        await play.close()
    return {"wire_to_speaker_ms": _p(starts, 50), "wire_to_speaker_ms_p95": _p(starts, 95),
            "wire_to_speaker_underruns": underruns}


def _alias_level_db(y: np.ndarray, rate: int, alias_hz: float) -> float:
    y = y.astype(np.float64)
    w = np.blackman(y.size)
    spectrum = np.abs(np.fft.rfft(y * w)) / (w.sum() / 2)
    freqs = np.fft.rfftfreq(y.size, 1 / rate)
    i = int(np.argmin(np.abs(freqs - alias_hz)))
    return float(20 * np.log10(spectrum[max(0, i - 4) : i + 5].max() + 1e-15))


def _alias_rejection() -> dict[str, float]:
    dst, amp = 16000, 0.5
    ours, naive = [], []
    for src in (48000, 44100):
        for freq in (8600.0, 9000.0, 10000.0, 12000.0, 15000.0, 20000.0):
            x = _tone(freq, src, 1.0, amp)
            alias = abs(((freq + dst / 2) % dst) - dst / 2)
            step = src // 100
            core = slice(dst // 10, -dst // 10)
            ref = 20 * np.log10(amp)
            rs = PolyphaseResampler(src, dst)
            y = np.concatenate([rs.process(x[i : i + step]) for i in range(0, x.size, step)])
            ours.append(ref - _alias_level_db(y[core], dst, alias))
            if src == 48000:
                naive.append(ref - _alias_level_db(x[:: src // dst][core], dst, alias))
    return {"alias_rejection_db": min(ours), "alias_rejection_db_naive": min(naive)}


async def _cpu_duplex(bed: PulseBed, seconds: float, minimal: bool = False) -> float:
    """voicecli's engine, or (``minimal``) the minimal clients of :mod:`benchmarks.floors`
    opened at the session rates (the sound server resamples for them), in the same harness."""
    assert bed.mic is not None
    cap: Any = MinimalCapture(16000) if minimal else DeviceCapture(16000)
    play: Any = MinimalPlayback(24000) if minimal else DevicePlayback(24000)
    await cap.start()
    await play.start()
    chunk = float_to_pcm16(_tone(300, 24000, 0.02, amp=0.3))
    bed.mic.play(_tone(440, MIC_RATE, seconds + 1.0, amp=0.3))

    async def consume() -> int:
        n = 0
        async for _ in cap.frames():
            n += 1
        return n

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.5)
    feeder0 = bed.mic.cpu_seconds
    cpu0, wall0 = time.process_time(), time.monotonic()
    t = wall0
    while time.monotonic() - wall0 < seconds:
        play.write(chunk, 24000)
        t += 0.02
        await asyncio.sleep(max(0.0, t - time.monotonic()))
    cpu = time.process_time() - cpu0 - (bed.mic.cpu_seconds - feeder0)
    wall = time.monotonic() - wall0
    await cap.close()
    await play.close()
    consumer.cancel()
    return 100.0 * cpu / wall


async def _cpu_floor(bed: PulseBed, seconds: float) -> float:
    """The same duplex run with PortAudio streams whose callbacks do nothing: the cost of
    the audio path itself (sounddevice, PortAudio, the ALSA plugin, the Pulse client)."""
    assert bed.mic is not None
    from voicecli.audio.devices import load_sounddevice

    sd = load_sounddevice()
    assert sd is not None

    def out_cb(outdata: np.ndarray, frames: int, t: object, status: object) -> None:
        outdata.fill(0)

    def in_cb(indata: np.ndarray, frames: int, t: object, status: object) -> None:
        return None

    cap = sd.InputStream(samplerate=44100, channels=2, blocksize=441, latency="low", callback=in_cb)
    play = sd.OutputStream(samplerate=44100, channels=2, blocksize=441, latency="low", callback=out_cb)
    cap.start()
    play.start()
    await asyncio.sleep(0.5)
    feeder0 = bed.mic.cpu_seconds
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - cpu0 - (bed.mic.cpu_seconds - feeder0)
    wall = time.monotonic() - wall0
    for stream in (cap, play):
        stream.stop()
        stream.close()
    return 100.0 * cpu / wall


async def _cpu_vs_floor(bed: PulseBed, rounds: int = 4, seconds: float = 3.0) -> dict[str, float]:
    """Floor, duplex and minimal-client windows taken in turn, ``rounds`` of each: medians,
    and the medians of the per-round differences (the load of a shared machine drifts
    between windows)."""
    ours, floor, minimal = [], [], []
    for _ in range(rounds):
        floor.append(await _cpu_floor(bed, seconds))
        ours.append(await _cpu_duplex(bed, seconds))
        minimal.append(await _cpu_duplex(bed, seconds, minimal=True))
    return {"cpu_percent_duplex": _p(ours, 50), "cpu_percent_duplex_floor": _p(floor, 50),
            "cpu_percent_duplex_over_floor": _p([a - b for a, b in zip(ours, floor, strict=True)], 50),
            "cpu_percent_duplex_minimal": _p(minimal, 50),
            "cpu_percent_duplex_minimal_over_floor": _p([a - b for a, b in zip(minimal, floor, strict=True)], 50)}


async def _run_all() -> dict[str, float]:
    results: dict[str, float] = {}
    results.update(_alias_rejection())
    with PulseBed(mic_chunk_ms=10) as bed:
        results.update(await _barge_in(bed))
        results.update(await _mic_to_wire_vs_floor(bed))
        results.update(await _wire_to_speaker())
        results.update(await _cpu_vs_floor(bed))
        results.update(talk_idle_cpu(bed, extra=["--aec", "off"]))
        results["talk_idle_cpu_percent_aec"] = talk_idle_cpu(bed)["talk_idle_cpu_percent"]
        results["talk_idle_cpu_over_duplex_floor"] = (
            results["talk_idle_cpu_percent"] - results["cpu_percent_duplex_floor"])
    return results


def run() -> dict[str, float]:
    return asyncio.run(_run_all())


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:32s} {value:10.3f}")
