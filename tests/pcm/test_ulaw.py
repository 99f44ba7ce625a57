"""G.711 µ-law against the ITU reference: the decode table and the encoder's output for
every PCM16 value (pinned by digest, taken from the reference ``linear2ulaw``)."""

from __future__ import annotations

import hashlib

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from voicecli.pcm import ulaw

# ulaw2linear for codes 0x80..0xFF (the codes 0x00..0x7F are their negatives)
G711_DECODE = [
    32124, 31100, 30076, 29052, 28028, 27004, 25980, 24956, 23932, 22908, 21884, 20860, 19836, 18812, 17788, 16764,
    15996, 15484, 14972, 14460, 13948, 13436, 12924, 12412, 11900, 11388, 10876, 10364, 9852, 9340, 8828, 8316,
    7932, 7676, 7420, 7164, 6908, 6652, 6396, 6140, 5884, 5628, 5372, 5116, 4860, 4604, 4348, 4092,
    3900, 3772, 3644, 3516, 3388, 3260, 3132, 3004, 2876, 2748, 2620, 2492, 2364, 2236, 2108, 1980,
    1884, 1820, 1756, 1692, 1628, 1564, 1500, 1436, 1372, 1308, 1244, 1180, 1116, 1052, 988, 924,
    876, 844, 812, 780, 748, 716, 684, 652, 620, 588, 556, 524, 492, 460, 428, 396,
    372, 356, 340, 324, 308, 292, 276, 260, 244, 228, 212, 196, 180, 164, 148, 132,
    120, 112, 104, 96, 88, 80, 72, 64, 56, 48, 40, 32, 24, 16, 8, 0,
]
# sha256 of linear2ulaw over every int16 from -32768 to 32767, in order
ENCODE_ALL_SHA256 = "81d633c9e6972a18c74a58720b96cb8ca0bdd096d4060b646dd708c3b846019a"
KNOWN = {0: 0xFF, 1: 0xFF, -1: 0x7E, 4: 0xFE, 100: 0xF2, -100: 0x72, 1000: 0xCE, 8031: 0xA0,
         -8032: 0x20, 32767: 0x80, -32768: 0x00}


def pcm(*values: int) -> bytes:
    return np.array(values, dtype="<i2").tobytes()


def test_decode_matches_the_g711_table() -> None:
    decoded = np.frombuffer(ulaw.decode(bytes(range(256))), dtype="<i2")
    assert decoded[128:].tolist() == G711_DECODE
    assert decoded[:128].tolist() == [-v for v in G711_DECODE]


def test_encode_is_bit_exact_with_the_reference_for_every_sample() -> None:
    every = np.arange(-32768, 32768, dtype="<i2").tobytes()
    assert hashlib.sha256(ulaw.encode(every)).hexdigest() == ENCODE_ALL_SHA256
    for value, code in KNOWN.items():
        assert ulaw.encode(pcm(value)) == bytes([code]), value


def test_empty_and_odd_lengths() -> None:
    assert ulaw.decode(b"") == b"" and ulaw.encode(b"") == b""
    assert ulaw.encode(pcm(1000) + b"\x01") == bytes([0xCE])


@given(st.binary(max_size=512))
def test_every_code_survives_decode_then_encode(codes: bytes) -> None:
    # 0x7F is the "negative zero" code: it decodes to 0, which encodes as 0xFF
    assert ulaw.encode(ulaw.decode(codes)) == codes.replace(b"\x7f", b"\xff")


@given(st.lists(st.integers(-32768, 32767), max_size=256))
def test_round_trip_error_is_within_one_quantisation_step(values: list[int]) -> None:
    x = np.array(values, dtype=np.int32)
    y = np.frombuffer(ulaw.decode(ulaw.encode(x.astype("<i2").tobytes())), dtype="<i2").astype(np.int32)
    # segment s quantises in steps of 2^(s+3) over magnitudes from about 2^(s+7): the error
    # stays within a sixteenth of the magnitude (plus the finest step), clipping included
    assert np.all(np.abs(y - x) <= np.abs(x) / 16 + 16)
    assert np.all(np.sign(y) * np.sign(x) >= 0)


def test_encoding_then_decoding_is_monotonic() -> None:
    ramp = np.arange(-32768, 32768, 16, dtype=np.int32).astype("<i2")
    back = np.frombuffer(ulaw.decode(ulaw.encode(ramp.tobytes())), "<i2").astype(np.int32)
    assert np.all(np.diff(back) >= 0)
