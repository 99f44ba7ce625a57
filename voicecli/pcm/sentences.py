"""Sentence splitting for speech: whole texts and streamed text alike.

A sentence ends at ``.``, ``!``, ``?`` or ``…`` followed by white space, or at a line break.
Fragments shorter than ``min_chars`` ("Hi.", "1.", "OK!") are kept together with the
following sentence so the synthesizer never gets a lone word; a period after a common
abbreviation ("Dr.", "e.g.") or a single initial does not end a sentence.
"""

from __future__ import annotations

import re

MIN_CHARS = 10

_END = re.compile(r"[.!?…]+[\"”’)\]]*(?=\s)|\n")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "e.g", "i.e", "approx", "no", "fig"}
)


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the period that ends at ``end`` belongs to an abbreviation or an initial."""
    if text[end - 1] != ".":
        return False
    start = max(text.rfind(" ", 0, end - 1), text.rfind("\n", 0, end - 1)) + 1
    word = text[start : end - 1].lstrip("(\"“'‘")
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True
    return word.lower() in _ABBREVIATIONS


class SentenceChunker:
    """Streamed text in, complete sentences out, as soon as each one is known to be complete.

    ``feed`` returns the sentences completed by the new text; ``flush`` returns what is left
    at the end of the stream. A sentence is only known to be complete once the white space
    after its final punctuation has arrived.
    """

    def __init__(self, min_chars: int = MIN_CHARS) -> None:
        self.min_chars = min_chars
        self._buffer = ""
        self._held = ""  # a short fragment waiting to be joined with the next sentence

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        out: list[str] = []
        cut = 0
        for match in _END.finditer(self._buffer):
            if _is_abbreviation(self._buffer, match.end()):
                continue
            self._emit(self._buffer[cut : match.end()], out)
            cut = match.end()
        self._buffer = self._buffer[cut:]
        return out

    def flush(self) -> list[str]:
        rest = " ".join(part for part in (self._held.strip(), self._buffer.strip()) if part)
        self._held = self._buffer = ""
        return [rest] if rest else []

    def _emit(self, piece: str, out: list[str]) -> None:
        piece = " ".join(piece.split())
        if not piece:
            return
        sentence = f"{self._held} {piece}" if self._held else piece
        if len(sentence) < self.min_chars:
            self._held = sentence
            return
        self._held = ""
        out.append(sentence)


def split_sentences(text: str, min_chars: int = MIN_CHARS) -> list[str]:
    """Split ``text`` into sentences for synthesis, keeping short fragments together."""
    chunker = SentenceChunker(min_chars)
    sentences = chunker.feed(text)
    tail = chunker.flush()
    if tail and sentences and len(tail[0]) < min_chars:
        sentences[-1] = f"{sentences[-1]} {tail[0]}"
    else:
        sentences += tail
    return sentences
