"""Compressed and companded audio: decode agent audio to PCM16 mono, encode clips.

Each call handles one standalone file or chunk: ``mp3``, ``opus`` (Ogg or WebM), ``wav``
and ``ulaw`` (G.711 mu-law, headerless). mp3 and Opus go through PyAV, which bundles
libmp3lame and libopus; mu-law (:mod:`voicecli.pcm.ulaw`) and WAV need nothing but numpy. PyAV is an extra
(``voicecli[voiceagent-codecs]``): without it, mp3 and Opus raise :class:`CodecUnavailable`,
whose message is the one-line install notice.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from voicecli.audio.resample import resample
from voicecli.errors import UsageError
from voicecli.pcm import ulaw
from voicecli.pcm.convert import float_to_pcm16, pcm16_to_float
from voicecli.pcm.wav import wav_bytes

_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


class CodecError(ValueError):
    """The data could not be decoded or encoded in the named encoding."""


class CodecUnavailable(CodecError):
    """The encoding needs an optional package that is not installed."""


AV_NOTICE = "mp3 and Opus audio need PyAV: pip install 'voicecli[voiceagent-codecs]'"


def av_available() -> bool:
    try:
        _av()
    except CodecUnavailable:
        return False
    return True


def _av() -> Any:
    """The PyAV module (the only place it is imported)."""
    try:
        import av
    except ImportError:
        raise CodecUnavailable(AV_NOTICE) from None
    return av


def _normalise(encoding: str) -> str:
    enc = encoding.lower().replace("-", "_")
    aliases = {"mulaw": "ulaw", "pcm_mulaw": "ulaw", "g711_ulaw": "ulaw", "mu_law": "ulaw",
               "ogg": "opus", "ogg_opus": "opus", "webm": "opus", "webm_opus": "opus", "mpeg": "mp3"}
    return aliases.get(enc, enc)


# --- PyAV ---------------------------------------------------------------------------------
def _decode_av(data: bytes) -> tuple[bytes, int]:
    av = _av()

    try:
        container: Any = av.open(io.BytesIO(data), mode="r")
    except Exception as exc:  # noqa: BLE001 - PyAV raises many error types for bad input
        raise CodecError(f"cannot open audio: {str(exc).splitlines()[0]}") from None
    with container:
        if not container.streams.audio:
            raise CodecError("no audio stream in data")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        parts: list[bytes] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().astype("<i2").tobytes())
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().astype("<i2").tobytes())
        except Exception as exc:  # noqa: BLE001
            raise CodecError(f"cannot decode audio: {str(exc).splitlines()[0]}") from None
    if rate <= 0:
        raise CodecError("audio stream has no sample rate")
    return b"".join(parts), rate


def _encode_av(pcm: bytes, rate: int, container_format: str, codec: str, codec_rate: int) -> bytes:
    av = _av()

    buf = io.BytesIO()
    out: Any = av.open(buf, mode="w", format=container_format)
    with out:
        stream: Any = out.add_stream(codec, rate=codec_rate)
        stream.layout = "mono"
        samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=codec_rate)
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


# --- WAV ----------------------------------------------------------------------------------
def _decode_wav(data: bytes) -> tuple[bytes, int]:
    import wave

    from voicecli.audio.wav import read_wav

    try:
        samples, rate = read_wav(io.BytesIO(data))
    except (wave.Error, EOFError, ValueError, UsageError) as exc:
        raise CodecError(f"not a PCM WAV file ({exc})") from None
    mono = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    return float_to_pcm16(mono), rate


# --- public API -----------------------------------------------------------------------------
def decode(data: bytes, encoding: str, rate: int | None = None) -> tuple[bytes, int]:
    """One standalone chunk to ``(pcm16_mono_bytes, sample_rate)``.

    ``rate`` is only used for headerless encodings (``ulaw``, ``pcm16``); mu-law defaults
    to 8 kHz. Raises ``CodecError`` for data that is not what ``encoding`` says."""
    enc = _normalise(encoding)
    if enc == "ulaw":
        return ulaw.decode(data), rate or ulaw.RATE
    if enc in ("pcm16", "pcm", "linear16", "s16le"):
        if rate is None:
            raise CodecError("raw PCM needs a sample rate")
        return bytes(data[: len(data) - len(data) % 2]), rate
    if enc == "wav":
        return _decode_wav(data)
    if enc in ("mp3", "opus"):
        return _decode_av(data)
    raise CodecError(f"unsupported audio encoding: {encoding}")


def encode(pcm: bytes, rate: int, encoding: str) -> bytes:
    """PCM16 mono at ``rate`` to one standalone file/chunk (mp3, Ogg Opus, WAV or mu-law).

    mu-law output is at 8 kHz (resampled when ``rate`` differs)."""
    enc = _normalise(encoding)
    if enc == "ulaw":
        if rate != ulaw.RATE:
            pcm = float_to_pcm16(resample(pcm16_to_float(pcm), rate, ulaw.RATE))
        return ulaw.encode(pcm)
    if enc == "wav":
        return wav_bytes(pcm, rate)
    if enc == "mp3":
        return _encode_av(pcm, rate, "mp3", "libmp3lame", rate)
    if enc == "opus":
        codec_rate = rate if rate in _OPUS_RATES else 48000
        return _encode_av(pcm, rate, "ogg", "libopus", codec_rate)
    raise CodecError(f"unsupported audio encoding: {encoding}")
