"""A recogniser constrained to what a brain answers, with the general model as fallback.

Two PocketSphinx searches hear every utterance side by side: a grammar of the brain's own
sentences (:mod:`voicecli.agent.speech.grammar`), which turns clear or unclear speech into
one of them, and the general language model, which writes whatever was said, however badly.
The grammar's sentence wins unless the speech was plainly something else:

- the brain does not understand the grammar's sentence (the search stopped part way), or
- the general model heard a sentence of at least ``OPEN_MIN_WORDS`` words, and at least as
  long, that shares no word with it ("i would like to book a flight to london" against "what
  is ninety two plus nine"; not "so it's easy to the" against "how much is six times
  seven", a clear question the general model garbled), or one at least ``LONGER`` words
  longer ("hello there what is the weather in paris" against "hello there").

Partial hypotheses are the grammar's.
"""

from __future__ import annotations

from collections.abc import Callable

from voicecli.agent.speech.stt import RATE, PocketSphinxRecognizer

OPEN_MIN_WORDS = 5  # an open sentence this long with no word in common is not the grammar's
LONGER = 4


def choose(grammar_text: str, open_text: str, understands: Callable[[str], bool]) -> str:
    """The grammar's hypothesis, or the general model's when the speech was out of grammar."""
    if not grammar_text or not understands(grammar_text):
        return open_text or grammar_text
    said, heard = grammar_text.split(), open_text.split()
    if len(heard) >= max(OPEN_MIN_WORDS, len(said)) and not set(said) & set(heard):
        return open_text
    if len(heard) >= len(said) + LONGER:
        return open_text
    return grammar_text


class GrammarRecognizer:
    """A :class:`~voicecli.agent.voice_contracts.Recognizer` for a brain with a grammar.

    ``understands(text)`` says whether the brain answers ``text``. Loads two decoders (about
    0.4 s) and feeds both; the grammar search costs a fraction of the general model's, so the
    pair costs about 1.15 times the CPU of one :class:`PocketSphinxRecognizer`.
    """

    name = "pocketsphinx-grammar"
    rate = RATE

    def __init__(self, jsgf: str, understands: Callable[[str], bool]) -> None:
        self.jsgf = jsgf
        self.understands = understands
        self._grammar = PocketSphinxRecognizer(jsgf=jsgf)
        self._open = PocketSphinxRecognizer()

    def start(self) -> None:
        self._grammar.start()
        self._open.start()

    def feed(self, pcm: bytes) -> str | None:
        self._open.feed(pcm)
        return self._grammar.feed(pcm)

    def finish(self) -> str:
        return choose(self._grammar.finish(), self._open.finish(), self.understands)

    def fresh(self) -> GrammarRecognizer:
        """Another recognizer for the same grammar (one per concurrent session)."""
        return GrammarRecognizer(self.jsgf, self.understands)
