import numpy as np
import pytest

from tests.audio.conftest import from_pcm, pcm, peak_hz, tone
from voicecli.audio.codecs import CodecError, _encode_av, decode, encode


@pytest.mark.parametrize("encoding", ["mp3", "opus", "wav", "ulaw"])
@pytest.mark.parametrize("rate", [16000, 24000])
def test_round_trip_keeps_pitch_length_and_level(encoding, rate):
    src = tone(440, rate, 1.0, amp=0.3)
    data = encode(pcm(src), rate, encoding)
    assert data and data != pcm(src)
    out, out_rate = decode(data, encoding)
    y = from_pcm(out)
    assert abs(y.size / out_rate - 1.0) < 0.08
    assert abs(peak_hz(y, out_rate) - 440) < 3
    rms = float(np.sqrt(np.mean(y[out_rate // 10 : -out_rate // 10] ** 2)))
    assert abs(rms - 0.3 / np.sqrt(2)) < 0.03


def test_each_chunk_is_a_standalone_file():
    assert encode(pcm(tone(440, 24000, 0.2)), 24000, "opus")[:4] == b"OggS"
    assert encode(pcm(tone(440, 24000, 0.2)), 24000, "wav")[:4] == b"RIFF"
    mp3 = encode(pcm(tone(440, 24000, 0.2)), 24000, "mp3")
    assert mp3[:3] == b"ID3" or mp3[0] == 0xFF


def test_webm_opus_decodes():
    data = _encode_av(pcm(tone(440, 48000, 0.5)), 48000, "webm", "libopus", 48000)
    assert data[:4] == b"\x1a\x45\xdf\xa3"
    out, rate = decode(data, "webm")
    assert abs(peak_hz(from_pcm(out), rate) - 440) < 3


def test_ulaw_decode_defaults_to_8k_and_takes_a_rate():
    assert decode(b"\xff" * 80, "ulaw")[1] == 8000
    assert decode(b"\xff" * 80, "mulaw", rate=16000)[1] == 16000
    assert decode(b"\xff" * 80, "ulaw")[0] == bytes(160)


@pytest.mark.parametrize("encoding", ["mp3", "opus", "wav"])
def test_garbage_raises_codec_error(encoding):
    with pytest.raises(CodecError):
        decode(b"this is not audio at all" * 10, encoding)


def test_unknown_encoding_is_refused():
    with pytest.raises(CodecError):
        decode(b"", "flac2000")
    with pytest.raises(CodecError):
        encode(b"", 16000, "flac2000")
