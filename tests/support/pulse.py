"""A private PulseAudio server with a virtual microphone and speaker, for tests and benchmarks.

    bed = PulseBed(); bed.start()
    bed.mic.play(samples_16k)           # what the microphone hears, paced in real time
    with bed.monitor() as mon: ...      # what was played on the speaker (spk.monitor)
    room = bed.room(delay_ms=80)        # the speaker's sound comes back into the microphone (a laptop's room)
    bed.stop()

The microphone is a ``module-pipe-source`` fed through a FIFO (16 kHz mono s16le); the
speaker is a ``module-null-sink`` whose monitor source holds what was played.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import numpy as np

from tests.support.priority import popen_raised, realtime_thread
from tests.support.room import PLAUSIBLE, Acoustics, Room
from tests.support.waiting import patience

MIC_RATE = 16000
FRAME_MS = 20


class PulseBedError(RuntimeError):
    """The test bed could not be set up (missing package, daemon failed, no mic)."""


class MicFeeder:
    """Writes ``chunk_ms`` chunks (20 ms by default) into the virtual microphone's FIFO at
    real-time pace, from a thread: queued audio when there is some, silence otherwise (so
    capture never stalls). ``writes`` keeps ``(monotonic_time, first_sample_index)`` of
    recent chunks."""

    def __init__(self, fifo: Path, chunk_ms: int = FRAME_MS) -> None:
        self._fifo = fifo
        self.chunk_ms = chunk_ms
        self._pending: deque[np.ndarray] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples_written = 0
        self.cpu_seconds = 0.0
        """CPU time this feeder's thread has used (to leave it out of CPU measurements)."""
        self.writes: deque[tuple[float, int]] = deque(maxlen=5000)
        self.marks: list[tuple[float, int]] = []
        """``(time, sample_index)`` of each ``play`` call's first sample when written."""
        self._mark_at: deque[int] = deque()
        self.error: str | None = None
        """Why the feeder's thread stopped writing before it was told to (then nothing is heard)."""
        self.mix: Callable[[float, int], np.ndarray] | None = None
        """Added to each chunk as it is written: ``mix(scheduled_time, samples)`` (the room's echo)."""

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pulse-mic", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    @property
    def thread_id(self) -> int | None:
        """The writing thread's id in the operating system (None when stopped)."""
        return None if self._thread is None else self._thread.native_id

    def state(self) -> str:
        """One line for a failure's message: is the feeder writing, and how much waits."""
        alive = self._thread is not None and self._thread.is_alive()
        with self._lock:
            queued = sum(p.size for p in self._pending) / MIC_RATE
        last = f"{time.monotonic() - self.writes[-1][0]:.1f} s ago" if self.writes else "never"
        return (f"mic feeder: {'writing' if alive else 'stopped'}{f' ({self.error})' if self.error else ''}, "
                f"{queued:.1f} s queued, last chunk written {last}")

    def play(self, samples: np.ndarray, rate: int = MIC_RATE) -> float:
        """Queue float (or int16) mono audio; returns its duration in seconds."""
        data = np.asarray(samples)
        if data.dtype == np.int16:
            data = data.astype(np.float32) / 32768.0
        data = data.astype(np.float32)
        if rate != MIC_RATE:
            import soxr

            data = soxr.resample(data, rate, MIC_RATE).astype(np.float32)
        with self._lock:
            queued = sum(p.size for p in self._pending)
            self._mark_at.append(self.samples_written + queued)
            self._pending.append(data)
        return data.size / MIC_RATE

    def idle(self) -> bool:
        with self._lock:
            return not self._pending

    def wait_idle(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.idle() and time.monotonic() < deadline:
            time.sleep(0.01)

    def _next_frame(self, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.float32)
        filled = 0
        with self._lock:
            while filled < n and self._pending:
                head = self._pending[0]
                take = min(n - filled, head.size)
                out[filled : filled + take] = head[:take]
                filled += take
                if take == head.size:
                    self._pending.popleft()
                else:
                    self._pending[0] = head[take:]
        return out

    def _run(self) -> None:
        realtime_thread()  # a sound card is never late
        n = MIC_RATE * self.chunk_ms // 1000
        fd = os.open(self._fifo, os.O_WRONLY)
        try:
            next_t = time.monotonic()
            while not self._stop.is_set():
                frame = self._next_frame(n)
                now = time.monotonic()
                mix = self.mix
                if mix is not None:  # on the schedule, not the (late) wall clock: a room's path is rigid
                    frame = frame + mix(next_t, n)
                pcm = np.clip(np.rint(frame * 32768.0), -32768, 32767).astype("<i2").tobytes()
                try:
                    os.write(fd, pcm)
                except OSError as exc:  # the server went away (bed stopping, or it failed)
                    if not self._stop.is_set():
                        self.error = f"{type(exc).__name__}: {exc}"
                    return
                self.writes.append((now, self.samples_written))
                while self._mark_at and self._mark_at[0] < self.samples_written + n:
                    idx = self._mark_at.popleft()
                    self.marks.append((now + (idx - self.samples_written) / MIC_RATE, idx))
                self.samples_written += n
                next_t += self.chunk_ms / 1000
                self.cpu_seconds = time.thread_time()
                delay = next_t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -0.2:  # fell far behind (loaded machine): resynchronise
                    next_t = time.monotonic()
        finally:
            os.close(fd)


class MonitorRecording:
    """Records ``spk.monitor`` (what the speaker played) with ``parec`` in the background.
    ``chunks`` holds ``(monotonic_time_read, samples)``; the null sink yields nothing while
    idle, so the recording only covers the time something was playing."""

    def __init__(
        self, env: dict[str, str], rate: int = 48000, source: str = "spk.monitor", keep: bool = True
    ) -> None:
        self.rate = rate
        self.keep = keep
        self.bytes_read = 0
        self.chunks: list[tuple[float, np.ndarray]] = []
        self._proc = popen_raised(
            ["parec", "-d", source, "--format=s16le", f"--rate={rate}", "--channels=1",
             "--latency-msec=5", "--process-time-msec=5", "--raw"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )
        self._thread = threading.Thread(target=self._read, name="pulse-monitor", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        realtime_thread()  # each chunk is stamped when read
        assert self._proc.stdout is not None
        block = self.rate // 100 * 2
        while True:
            data = self._proc.stdout.read1(block) if hasattr(self._proc.stdout, "read1") else b""
            if not data:
                return
            if len(data) % 2:
                data += self._proc.stdout.read(1)
            self.bytes_read += len(data)
            if not self.keep:
                continue
            self.chunks.append((time.monotonic(), np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0))

    def exited(self) -> bool:
        return self._proc.poll() is not None

    def stop(self) -> np.ndarray:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._thread.join(timeout=3)
        return self.samples()

    def samples(self, since: float | None = None) -> np.ndarray:
        """What was recorded (read at ``since`` or later, on the monotonic clock)."""
        parts = [c for t, c in self.chunks if since is None or t >= since]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def wait_quiet(self, seconds: float, timeout: float, level: float = 0.05) -> None:
        """Until nothing louder than ``level`` has been played for ``seconds`` (what a
        person waits for before answering); AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            loud = [t for t, c in list(self.chunks) if c.size and np.abs(c).max() > level]
            if time.monotonic() - (loud[-1] if loud else 0.0) >= seconds:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the speaker never went quiet for {seconds:g} s")
            time.sleep(0.05)

    def __enter__(self) -> MonitorRecording:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class PulseBed:
    """A private PulseAudio daemon: sink ``spk`` (default), source ``mic`` (default, fed by
    ``self.mic``), and optional extra null sinks at other rates (``extra_sinks``)."""

    def __init__(self, extra_sinks: dict[str, int] | None = None, mic_chunk_ms: int = FRAME_MS) -> None:
        self.extra_sinks = extra_sinks or {}
        self.mic_chunk_ms = mic_chunk_ms
        self.dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.mic: MicFeeder | None = None
        self._room: Room | None = None
        self._saved_env: dict[str, str | None] = {}

    @property
    def server(self) -> str:
        assert self.dir is not None
        return f"unix:{self.dir / 'native'}"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PULSE_SERVER"] = self.server
        return env

    def _daemon_env(self) -> dict[str, str]:
        """The daemon keeps its home, runtime and state files in the bed's own folder, so
        that beds started side by side (one per pytest-xdist worker) share nothing."""
        assert self.dir is not None
        private = str(self.dir)
        return {**os.environ, "HOME": private, "XDG_RUNTIME_DIR": private, "XDG_CONFIG_HOME": private,
                "PULSE_RUNTIME_PATH": private, "PULSE_STATE_PATH": private}

    def pactl(self, *args: str) -> str:
        out = subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            raise PulseBedError(f"pactl {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def listed(self, kind: str) -> list[list[str]]:
        """``pactl list short KIND``: a row of tab-separated fields per object (index first)."""
        return [line.split("\t") for line in self.pactl("list", "short", kind).splitlines() if "\t" in line]

    def start(self) -> PulseBed:
        for tool in ("pulseaudio", "pactl", "parec"):
            if shutil.which(tool) is None:
                raise PulseBedError(
                    f"`{tool}` not found: the audio test bed needs the Debian packages "
                    "pulseaudio, pulseaudio-utils, libasound2-plugins and libportaudio2"
                )
        self.dir = Path(tempfile.mkdtemp(prefix="voicecli-pulse-"))
        fifo = self.dir / "mic.fifo"  # must not exist yet: module-pipe-source creates it
        log = open(self.dir / "pulseaudio.log", "wb")  # noqa: SIM115
        self.proc = popen_raised(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
             "--use-pid-file=no", "-L", f"module-native-protocol-unix socket={self.dir / 'native'} auth-anonymous=1",
             "-L", "module-null-sink sink_name=spk",
             "-L", f"module-pipe-source source_name=mic file={fifo} format=s16le rate={MIC_RATE} channels=1"],
            stdout=log, stderr=subprocess.STDOUT, env=self._daemon_env(),
        )
        log.close()
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise PulseBedError(f"pulseaudio exited: {self.log_tail()}")
            try:
                self.pactl("info")
                break
            except PulseBedError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise PulseBedError(f"pulseaudio did not come up: {self.log_tail()}") from None
                time.sleep(0.05)
        for name, rate in self.extra_sinks.items():
            self.pactl("load-module", "module-null-sink", f"sink_name={name}", f"rate={rate}")
        self.pactl("set-default-sink", "spk")
        self.pactl("set-default-source", "mic")
        sources = [row[1] for row in self.listed("sources")]
        if "mic" not in sources:
            self.stop()
            raise PulseBedError(f"virtual microphone missing (sources: {sources}); {self.log_tail()}")
        self._warm_up()
        self._saved_env = {"PULSE_SERVER": os.environ.get("PULSE_SERVER")}
        os.environ["PULSE_SERVER"] = self.server
        self.reinit_portaudio()
        self.mic = MicFeeder(fifo, self.mic_chunk_ms)
        self.mic.start()
        return self

    def _warm_up(self) -> None:
        """The null sink starts out sleeping with a ~2 s latency: the first stream to play
        would stall that long. Keep a low-latency reader on its monitor for the bed's whole
        life and play a moment of silence until the monitor flows."""
        self._keeper = MonitorRecording(self.env, rate=8000, keep=False)
        player = subprocess.Popen(
            ["pacat", "--playback", "-d", "spk", "--format=s16le", "--rate=8000", "--channels=1", "--raw"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env,
        )
        assert player.stdin is not None
        deadline = time.monotonic() + 8
        try:
            while self._keeper.bytes_read == 0 and time.monotonic() < deadline:
                player.stdin.write(bytes(320))
                player.stdin.flush()
                time.sleep(0.02)
        finally:
            player.stdin.close()
            player.wait(timeout=5)
        if self._keeper.bytes_read == 0:
            raise PulseBedError("the virtual speaker never started playing")

    @staticmethod
    def reinit_portaudio() -> None:
        """PortAudio enumerates devices once: make it see this server."""
        from voicecli.audio.devices import reinitialize

        reinitialize()

    def room(self, acoustics: Acoustics = PLAUSIBLE, **changes: float) -> Room:
        """Route the speaker back into the microphone (see :class:`tests.support.room.Room`):
        ``acoustics`` with ``changes`` (``delay_ms=60``...); replaces the room there was.
        ``close_room`` takes it away."""
        assert self.mic is not None, "start the bed first"
        self.close_room()
        self._room = Room(self.env, MIC_RATE, acoustics.with_(**changes))
        self.mic.mix = self._room.mix
        return self._room

    def close_room(self) -> None:
        if self.mic is not None:
            self.mic.mix = None
        if self._room is not None:
            self._room.stop()
            self._room = None

    def monitor(self, rate: int = 48000, source: str = "spk.monitor") -> MonitorRecording:
        """A recording of ``source``, returned once its stream is connected to the server,
        so that what plays next is recorded from its first sample (a recorder still starting
        on a loaded machine could miss the start of a short burst)."""
        before = len(self.listed("source-outputs"))
        recording = MonitorRecording(self.env, rate, source)
        deadline = time.monotonic() + patience(5)
        while len(self.listed("source-outputs")) <= before:
            if recording.exited() or time.monotonic() > deadline:
                recording.stop()
                raise PulseBedError(f"the recorder of {source} never connected: {self.log_tail()}")
            time.sleep(0.01)
        return recording

    def log_tail(self, lines: int = 5) -> str:
        if self.dir is None or not (self.dir / "pulseaudio.log").exists():
            return ""
        text = (self.dir / "pulseaudio.log").read_text(errors="replace").splitlines()
        return " | ".join(text[-lines:])

    def stop(self) -> None:
        self.close_room()
        if getattr(self, "_keeper", None) is not None:
            self._keeper.stop()
            self._keeper = None
        if self.mic is not None:
            self.mic.stop()
            self.mic = None
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> PulseBed:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def voiced_seconds(x: np.ndarray, rate: int, win_s: float = 0.02) -> float:
    """Seconds of ``x`` (float samples) in 20 ms windows louder than -50 dBFS."""
    n = int(rate * win_s)
    frames = np.asarray(x[: x.size // n * n], np.float64).reshape(-1, n)
    return float(np.sum(np.sqrt(np.mean(frames ** 2, axis=1)) > 0.003) * win_s)
