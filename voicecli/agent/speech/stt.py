"""Offline streaming speech recognition with PocketSphinx and the US English model in its wheel.

The general language model by default; with ``jsgf=`` a grammar search instead, that can only
write the grammar's sentences (:mod:`voicecli.agent.speech.constrained` runs both). The grammar
search knows each of its words by the first pronunciation in the dictionary only: the variants
("seventy" as "sevenee", "twenty" as "twenny") make number words sound alike ("seven" was heard
as "seventy"; measured on the spoken questions of ``benchmarks/bench_stt.py``, 0.850 -> 0.867).
"""

from __future__ import annotations

import functools
import os
import tempfile
import threading
from typing import Any

from voicecli.agent.speech.grammar import words as grammar_words

RATE = 16000
# A grammar search: language weight 12 (6.5, the default, hears fewer sums), and its first-pass
# best path rather than the lattice rescoring after it (measured with `make bench`: the
# rescoring turns "seven" into "seventy" and "what day" into "what time" far more often, and
# costs as much again as the search). Wider beams than the defaults (1e-48, 1e-48, 7e-29) and a
# phone insertion probability of 2 (1): with the defaults every path that could end the grammar
# was sometimes pruned before the end of the utterance and the search wrote nothing (18 of the
# 182 development clips of `benchmarks/bench_stt.py`, none now; chosen on that set, the
# grammar search costs about 1.15 times as much CPU).
GRAMMAR_OPTIONS: dict[str, Any] = {"lw": 12.0, "bestpath": False, "beam": 1e-60, "pbeam": 1e-60, "wbeam": 1e-40,
                                   "pip": 2.0}


class PocketSphinxRecognizer:
    """A :class:`~voicecli.agent.voice_contracts.Recognizer` over one reused PocketSphinx decoder.

    One utterance at a time: ``start()``, ``feed()`` 16 kHz PCM16 mono as it arrives (each
    call returns the partial hypothesis when it changed), ``finish()`` for the final text.
    The decoder is loaded once in the constructor (about 0.2 s); calls are serialised by a
    lock, so give each concurrent session its own recognizer. ``jsgf``: a JSGF grammar to
    search instead of the language model (every word must be in the dictionary).
    """

    name = "pocketsphinx"
    rate = RATE

    def __init__(
        self, *, hmm: str | None = None, lm: str | None = None, dictionary: str | None = None,
        jsgf: str | None = None,
    ) -> None:
        from pocketsphinx import Decoder, get_model_path

        model = get_model_path("en-us")
        dictionary = dictionary or os.path.join(model, "cmudict-en-us.dict")
        options = GRAMMAR_OPTIONS if jsgf is not None else {}
        with tempfile.TemporaryDirectory(prefix="voicecli_dict_") as folder:
            if jsgf is not None:
                small = os.path.join(folder, "grammar.dict")
                with open(small, "w", encoding="utf-8") as out:
                    out.write(primary_pronunciations(dictionary, frozenset(grammar_words(jsgf))))
                dictionary = small
            self._decoder: Any = Decoder(
                hmm=hmm or os.path.join(model, "en-us"),
                lm=lm or os.path.join(model, "en-us.lm.bin"),
                dict=dictionary,
                samprate=RATE,
                loglevel="FATAL",
                logfn=os.devnull,
                **options,
            )
        if jsgf is not None:
            missing = sorted(w for w in grammar_words(jsgf) if self._decoder.lookup_word(w) is None)
            if missing:
                raise ValueError(f"words missing from the pronunciation dictionary: {', '.join(missing)}")
            self._decoder.add_jsgf_string("grammar", jsgf)
            self._decoder.activate_search("grammar")
        self._lock = threading.Lock()
        self._active = False
        self._partial = ""
        self._odd = b""  # a trailing half sample from the previous feed

    def start(self) -> None:
        with self._lock:
            if self._active:
                self._decoder.end_utt()
            self._decoder.start_utt()
            self._active = True
            self._partial = ""
            self._odd = b""

    def feed(self, pcm: bytes) -> str | None:
        with self._lock:
            if not self._active:
                self._decoder.start_utt()
                self._active = True
            data = self._odd + pcm
            usable = len(data) - len(data) % 2
            self._odd = data[usable:]
            if usable == 0:
                return None
            self._decoder.process_raw(data[:usable], False, False)
            text = self._hypothesis()
            if text == self._partial or not text:
                return None
            self._partial = text
            return text

    def finish(self) -> str:
        with self._lock:
            if not self._active:
                return ""
            self._decoder.end_utt()
            self._active = False
            self._odd = b""
            return self._hypothesis()

    def pronunciation(self, word: str) -> str | None:
        """The phones the decoder knows ``word`` by ("S EH V AH N"), or None when it does not."""
        with self._lock:
            phones = self._decoder.lookup_word(word)
        return None if phones is None else str(phones)

    def _hypothesis(self) -> str:
        hyp = self._decoder.hyp()
        return str(hyp.hypstr).strip() if hyp is not None else ""


@functools.lru_cache(maxsize=8)
def primary_pronunciations(dictionary: str, words: frozenset[str]) -> str:
    """The lines of ``dictionary`` (CMU format) that give the first pronunciation of ``words``.

    Variants are written ``word(2) ...`` and left out.
    """
    with open(dictionary, encoding="utf-8") as source:
        return "".join(line for line in source if line.split(" ", 1)[0] in words)
