"""The VoiceAgent SDK's sentence groups: how its ``SpeechManager`` cuts streamed reply
text into the pieces it synthesizes, one ``audio_chunk`` each.

The whole pending text is scanned at every delta: a sentence ends at ``.``, ``!`` or
``?`` (repeated) followed by white space or the end of the text. A sentence of at least
``MIN_GROUP`` characters is a group; a shorter one is appended to the previous group
found in the same scan, or else waits (it becomes the start of the next group). When the
text left over is longer than ``MAX_GROUP`` it is cut after the first clause mark
(``,;:`` and white space) at or beyond ``MIN_GROUP`` characters. At the end of the
stream the rest, if not blank, is one more group.
"""

from __future__ import annotations

import re

MIN_GROUP = 50
MAX_GROUP = 200

_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|\Z)")
_CLAUSE = re.compile(r"[,;:]\s+")


def extract_groups(text: str, min_size: int = MIN_GROUP, max_size: int = MAX_GROUP) -> tuple[list[str], str]:
    """(the complete groups in ``text``, the text left pending)."""
    groups: list[str] = []
    last = 0
    for match in _SENTENCE_END.finditer(text):
        sentence = text[last:match.end()].strip()
        if len(sentence) >= min_size:
            groups.append(sentence)
            last = match.end()
        elif groups:
            groups[-1] += " " + sentence
            last = match.end()
    remaining = text[last:]
    if len(remaining) > max_size:
        for clause in _CLAUSE.finditer(remaining):
            if clause.start() >= min_size:
                groups.append(remaining[:clause.end()].strip())
                remaining = remaining[clause.end():]
                break
    return [g for g in groups if g.strip()], remaining


class SpeechGroups:
    """Streamed text in, the SDK's speech groups out (a speaker chunker)."""

    def __init__(self, min_size: int = MIN_GROUP, max_size: int = MAX_GROUP) -> None:
        self.min_size = min_size
        self.max_size = max_size
        self._pending = ""

    def feed(self, text: str) -> list[str]:
        groups, self._pending = extract_groups(self._pending + text, self.min_size, self.max_size)
        return groups

    def flush(self) -> list[str]:
        rest, self._pending = self._pending.strip(), ""
        return [rest] if rest else []
