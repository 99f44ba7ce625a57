"""Choosing the local agent's brain, voice and ears in one place.

A brain with a grammar (the rules brain: ``grammar()`` and ``understands(text)``) gets ears
constrained to it, with the general model as fallback
(:class:`voicecli.agent.speech.constrained.GrammarRecognizer`); the others get the general model.

The offline speech models (hibari, PocketSphinx: the ``local`` extra) are optional: when
they are missing the agent speaks in tones and has no ears, and says so once
(``Voice.notices``); a brain whose options are wrong (the llm brain without a URL) gives
way to the echo brain, with a notice too.

The speech models are loaded once per server and shared by its sessions: one
synthesizer (one sentence at a time, recent sentences remembered, so a hundred sessions
greeting at once cost one synthesis) and a :class:`~voicecli.agent.pool.RecognizerPool`
lent per utterance. A session's own state is its brain and what decoding needs.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from voicecli.agent.brains.echo import GREETING, EchoBrain
from voicecli.agent.brains.factory import make_brain
from voicecli.agent.config import AgentConfig
from voicecli.agent.pool import Lease, RecognizerPool
from voicecli.agent.speech import load_speech
from voicecli.agent.speech.constrained import GrammarRecognizer
from voicecli.agent.tone import ToneSynthesizer
from voicecli.agent.voice_contracts import Brain, Recognizer, Synthesizer

log = logging.getLogger(__name__)
_noticed: set[str] = set()


def _notice(text: str) -> str:
    if text not in _noticed:
        _noticed.add(text)
        log.warning("%s", text)
    return text


class SharedSynth:
    """One synthesizer shared by every session: one sentence at a time, and the most recent
    sentences (up to ``cache_bytes`` of audio) remembered, so repeated sentences (greetings,
    stock answers) are not synthesized again."""

    def __init__(self, inner: Synthesizer, cache_bytes: int = 16 << 20) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached = 0
        self.name = inner.name
        self.rate = inner.rate

    def synthesize(self, text: str) -> bytes:
        with self._lock:
            pcm = self._cache.get(text)
            if pcm is not None:
                self._cache.move_to_end(text)
                return pcm
            pcm = self._inner.synthesize(text)
            if len(pcm) <= self._cache_bytes // 8:
                self._cache[text] = pcm
                self._cached += len(pcm)
                while self._cached > self._cache_bytes:
                    self._cached -= len(self._cache.popitem(last=False)[1])
            return pcm


@dataclass
class Voice:
    """What a server shares between its sessions."""

    synth: Synthesizer
    brain_name: str
    make_brain: Callable[[], Brain]
    recognizers: RecognizerPool | None = None
    notices: list[str] = field(default_factory=list)

    def lease(self) -> Lease | None:
        """A session's claim on the shared recognizers (``None``: the agent has no ears)."""
        return self.recognizers.lease() if self.recognizers is not None else None


@runtime_checkable
class GrammarBrain(Protocol):
    """A brain that says what it answers (the rules brain): its ears are constrained to it."""

    name: str

    def grammar(self) -> str: ...

    def understands(self, text: str) -> bool: ...


def _choose_brain(config: AgentConfig, notices: list[str]) -> tuple[str, Callable[[], Brain]]:
    wanted = "rules" if config.brain == "auto" else config.brain
    if wanted == "echo":
        return "echo", lambda: EchoBrain(GREETING)
    options = dict(config.brain_options)

    def maker() -> Brain:
        return make_brain(wanted, **options)

    try:
        maker()  # fail early, at server start, rather than per connection
    except ValueError as exc:  # bad or missing options: the agent still works with the echo brain
        notices.append(_notice(f"the {wanted} brain is not available ({exc}); using the echo brain"))
        return "echo", lambda: EchoBrain(GREETING)
    return wanted, maker


def _load_speech(notices: list[str]) -> tuple[Synthesizer | None, Recognizer | None]:
    tts, stt, notice = load_speech()
    if notice:
        notices.append(_notice(notice))
    return tts, stt


def _constrained(make_brain: Callable[[], Brain],
                 notices: list[str]) -> tuple[Recognizer, Callable[[], Recognizer]] | None:
    """Ears constrained to what the brain answers, when it has a grammar (the rules brain):
    the first recognizer, and how to make more for the pool."""
    brain = make_brain()
    if not isinstance(brain, GrammarBrain):
        return None
    try:
        first = GrammarRecognizer(brain.grammar(), brain.understands)
    except Exception as exc:  # noqa: BLE001 - the general model still hears everything
        notices.append(_notice(f"the {brain.name} brain's grammar is not usable ({exc}); using the general model"))
        return None
    return first, first.fresh


def build_voice(config: AgentConfig) -> Voice:
    """The brain, synthesizer and recognizers for a server (blocking: loads models)."""
    notices: list[str] = []
    brain_name, make_brain = _choose_brain(config, notices)
    synth: Synthesizer | None = None
    recognizers: RecognizerPool | None = None
    if config.speech:
        synth, stt = _load_speech(notices)
        if stt is not None:
            constrained = _constrained(make_brain, notices)
            first, make = constrained if constrained is not None else (stt, type(stt))
            recognizers = RecognizerPool(make, first, config.recognizer_limit())
    return Voice(synth=SharedSynth(synth) if synth is not None else ToneSynthesizer(),
                 brain_name=brain_name, make_brain=make_brain, recognizers=recognizers, notices=notices)
