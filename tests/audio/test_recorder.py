import wave

import numpy as np
import pytest

from tests.audio.conftest import pcm, tone
from voicecli.audio.recorder import Recorder
from voicecli.audio.wav import read_wav


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _frames_on_disk(path) -> int:
    with wave.open(str(path)) as f:
        return f.getnframes()


def test_recorder_writes_incrementally_and_aligns_channels(tmp_path):
    clock = FakeClock()
    rec = Recorder(tmp_path, rate=16000, name="s.wav", clock=clock)
    silence = bytes(640)
    agent = tone(440, 24000, 0.5)
    on_disk = []
    for i in range(150):  # 3 s of 20 ms mic frames
        clock.t += 0.02
        rec.mic(silence, 16000)
        if i == 50:  # agent audio played from t0 + 1.0 s, in 10 ms pieces as a speaker tap gives it
            for k in range(50):
                rec.played(pcm(agent[k * 240 : (k + 1) * 240]), 24000, 100.0 + 1.0 + k * 0.01)
        on_disk.append(_frames_on_disk(tmp_path / "s.wav"))
    # the file grew while the session ran, never more than ~1.5 s behind
    assert on_disk[60] > 0
    assert on_disk[-1] >= 16000 * 1.5
    rec.close()
    data, rate = read_wav(tmp_path / "s.wav")
    assert rate == 16000 and data.shape[1] == 2
    assert abs(data.shape[0] / rate - 3.0) < 0.05
    right = np.abs(data[:, 1]) > 0.05
    first = np.argmax(right) / rate
    last = (len(right) - np.argmax(right[::-1])) / rate
    assert first == pytest.approx(1.0, abs=0.03)
    assert last - first == pytest.approx(0.5, abs=0.03)
    assert not np.any(np.abs(data[:, 0]) > 0.01)  # the mic was silent


def test_crash_loses_at_most_the_last_second(tmp_path):
    clock = FakeClock()
    rec = Recorder(tmp_path, name="c.wav", clock=clock)
    for _ in range(200):  # 4 s, never closed
        clock.t += 0.02
        rec.mic(pcm(tone(300, 8000, 0.02)), 8000)
    seconds = _frames_on_disk(tmp_path / "c.wav") / 8000
    assert seconds >= 4.0 - 1.0 - 0.5  # sync every second, written up to 0.5 s before now
    del rec


def test_attach_playback_uses_the_tap(tmp_path):
    class Playback:
        def __init__(self) -> None:
            self.taps = []

        def add_tap(self, tap) -> None:
            self.taps.append(tap)

        def remove_tap(self, tap) -> None:
            self.taps.remove(tap)

        audible = False

    rec = Recorder(tmp_path, rate=16000)
    p = Playback()
    assert rec.attach_playback(p) and p.taps == [rec.played]
    assert not rec.attach_playback(object())
    assert rec.close() is None  # nothing recorded, no file claimed
