"""Choosing the local agent's brain, voice and ears in one place.

A brain with a grammar (the rules brain: ``grammar()`` and ``understands(text)``) gets ears
constrained to it, with the general model as fallback
(:class:`voicecli.agent.speech.constrained.GrammarRecognizer`); the others get the general model.

The offline speech (``voicecli.agent.speech``) and the rules/LLM brains are optional:
when they are missing the agent falls back to the tone voice and the echo brain, and
says so once (``Voice.notices``).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from voicecli.agent.brains.echo import GREETING, EchoBrain
from voicecli.agent.config import AgentConfig
from voicecli.agent.interfaces import Brain, Recognizer, Synthesizer
from voicecli.agent.tone import ToneSynthesizer

log = logging.getLogger(__name__)
_noticed: set[str] = set()


def _notice(text: str) -> str:
    if text not in _noticed:
        _noticed.add(text)
        log.warning("%s", text)
    return text


class _LockedSynth:
    """One synthesizer shared by every session, one sentence at a time."""

    def __init__(self, inner: Synthesizer) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.name = inner.name
        self.rate = inner.rate

    def synthesize(self, text: str) -> bytes:
        with self._lock:
            return self._inner.synthesize(text)


@dataclass
class Voice:
    """What a server shares between its sessions."""

    synth: Synthesizer
    brain_name: str
    make_brain: Callable[[], Brain]
    recognizer_type: Callable[[], Recognizer] | None = None
    notices: list[str] = field(default_factory=list)
    _idle: list[Recognizer] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire_recognizer(self) -> Recognizer | None:
        """A recognizer for one session (blocking: may load a model; run in a thread)."""
        if self.recognizer_type is None:
            return None
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            return self.recognizer_type()
        except Exception as exc:  # noqa: BLE001 - a session without ears still works
            _notice(f"speech recognition unavailable: {exc}")
            return None

    def release_recognizer(self, recognizer: Recognizer | None) -> None:
        if recognizer is not None:
            with self._lock:
                self._idle.append(recognizer)


def _import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _choose_brain(config: AgentConfig, notices: list[str]) -> tuple[str, Callable[[], Brain]]:
    wanted = "rules" if config.brain == "auto" else config.brain
    echo: tuple[str, Callable[[], Brain]] = ("echo", lambda: EchoBrain(GREETING))
    if wanted == "echo":
        return echo
    module = _import("voicecli.agent.brains.factory")
    make_brain: Any = getattr(module, "make_brain", None) if module is not None else None
    if make_brain is None:
        notices.append(_notice(f"the {wanted} brain is not available; using the echo brain"))
        return echo
    options = dict(config.brain_options)

    def maker() -> Brain:
        brain: Brain = make_brain(wanted, **options)
        return brain

    try:
        maker()  # fail early, at server start, rather than per connection
    except Exception as exc:  # noqa: BLE001 - the agent still works with the echo brain
        notices.append(_notice(f"the {wanted} brain is not available ({exc}); using the echo brain"))
        return echo
    return wanted, maker


def _load_speech(notices: list[str]) -> tuple[Synthesizer | None, Callable[[], Recognizer] | None]:
    module = _import("voicecli.agent.speech")
    loader: Any = getattr(module, "load_speech", None) if module is not None else None
    if loader is None:
        notices.append(_notice("offline speech is not available; the agent speaks in tones"))
        return None, None
    tts, stt, notice = loader()
    if notice:
        notices.append(_notice(str(notice)))
    recognizer_type: Callable[[], Recognizer] | None = None
    if stt is not None:
        first: list[Recognizer] = [stt]

        def recognizer_type() -> Recognizer:
            return first.pop() if first else type(stt)()

    return tts, recognizer_type


def _constrained(make_brain: Callable[[], Brain], notices: list[str]) -> Callable[[], Recognizer] | None:
    """Ears constrained to what the brain answers, when it has a grammar (the rules brain)."""
    brain: Any = make_brain()
    grammar = getattr(brain, "grammar", None)
    understands = getattr(brain, "understands", None)
    module = _import("voicecli.agent.speech.constrained")
    if grammar is None or understands is None or module is None:
        return None
    try:
        first = module.GrammarRecognizer(grammar(), understands)
    except Exception as exc:  # noqa: BLE001 - the general model still hears everything
        notices.append(_notice(f"the {brain.name} brain's grammar is not usable ({exc}); using the general model"))
        return None
    spare: list[Recognizer] = [first]

    def recognizer_type() -> Recognizer:
        recognizer: Recognizer = spare.pop() if spare else first.fresh()
        return recognizer

    return recognizer_type


def build_voice(config: AgentConfig) -> Voice:
    """The brain, synthesizer and recognizer for a server (blocking: loads models)."""
    notices: list[str] = []
    brain_name, make_brain = _choose_brain(config, notices)
    synth: Synthesizer | None = None
    recognizer_type: Callable[[], Recognizer] | None = None
    if config.speech:
        synth, recognizer_type = _load_speech(notices)
        if recognizer_type is not None:
            recognizer_type = _constrained(make_brain, notices) or recognizer_type
    voice = Voice(synth=_LockedSynth(synth) if synth is not None else ToneSynthesizer(),
                  brain_name=brain_name, make_brain=make_brain, recognizer_type=recognizer_type,
                  notices=notices)
    return voice
