"""Character timings for a chunk of a sentence's audio (ElevenLabs' ``audio_event.alignment``).

The hosted service sends, with each audio chunk, the characters it speaks and when each
starts within the chunk (``chars``, ``char_start_times_ms``, ``char_durations_ms``), so a
client can tell exactly what was heard when it stops playback. The local agent's voices
give no such timings: the sentence's characters are spread evenly over its audio, which is
what a client needs (words heard in order, in proportion to the time played).
"""

from __future__ import annotations

from typing import Any


def alignment(sentence: str, offset: int, length: int, chunk_bytes: int, rate: int,
              lead_space: bool) -> dict[str, Any] | None:
    """The alignment of the chunk at byte ``offset`` (``chunk_bytes`` long) of a sentence
    whose audio is ``length`` bytes of PCM16 at ``rate``; ``lead_space`` adds the space
    that separates this sentence from the one before (at the chunk's start)."""
    if not sentence or length <= 0 or rate <= 0:
        return None
    count = len(sentence)
    per_char = length / count
    # character i starts at i * length / count bytes: exact integer bounds, no rounding gaps
    first = -(-offset * count // length)  # the first character starting in this chunk
    chars: list[str] = []
    starts: list[int] = []
    durations: list[int] = []
    if lead_space and offset == 0:
        chars.append(" ")
        starts.append(0)
        durations.append(0)
    char_ms = per_char / 2 / rate * 1000
    index = first
    while index < count and index * length < (offset + chunk_bytes) * count:
        chars.append(sentence[index])
        starts.append(round((index * per_char - offset) / 2 / rate * 1000))
        durations.append(round(char_ms))
        index += 1
    return {"chars": chars, "char_start_times_ms": starts, "char_durations_ms": durations}
