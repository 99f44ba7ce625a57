"""Contracts of the local agent's voice: the brain that decides what the agent says, the
chunker that cuts its streamed text into pieces to speak, the synthesizer that speaks them
and the recognizer that hears the user. The engine asks a :class:`Brain` for replies, a
:class:`Synthesizer` for audio and a :class:`Recognizer` for user transcripts; what a brain
may leave out has a default in :class:`BaseBrain`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

ClientToolCall = Callable[[str, Mapping[str, Any]], Awaitable[tuple[Any, bool]]]
"""``await call(name, arguments)`` asks the session's client to run a tool: ``(result, is_error)``."""


class Brain(Protocol):
    """Decides what the agent says. Implementations: echo, rules, llm (each a
    :class:`BaseBrain`, which has the defaults of what a brain may leave out)."""

    name: str
    plays_back_audio: bool  # after each spoken reply the engine plays the user's audio back

    def greeting(self) -> str | None: ...

    def reply(self, user_text: str) -> AsyncIterator[str]:
        """The reply as text pieces, streamed (whole sentences or smaller deltas)."""
        ...

    def configure(self, prompt: str | None = None, language: str | None = None) -> None:
        """A client's overrides of the system prompt and the language, at the session's start."""
        ...

    def bind_client_tools(self, call: ClientToolCall) -> None:
        """The session's client can run tools (the dialect has ``client_tools``)."""
        ...

    def add_context(self, text: str) -> None:
        """A client's contextual update (background for the replies, not a turn)."""
        ...


class BaseBrain:
    """The defaults of a :class:`Brain`: no playback, no overrides, no client tools, and
    contextual updates ignored."""

    name: str = "brain"
    plays_back_audio: bool = False

    def configure(self, prompt: str | None = None, language: str | None = None) -> None:
        return None

    def bind_client_tools(self, call: ClientToolCall) -> None:
        return None

    def add_context(self, text: str) -> None:
        return None


class Chunker(Protocol):
    """Streamed text in, the pieces to synthesize one at a time out."""

    def feed(self, text: str) -> list[str]: ...

    def flush(self) -> list[str]: ...


class Synthesizer(Protocol):
    """Text → speech. ``synthesize`` is CPU-bound: the engine runs it in a thread."""

    name: str
    rate: int

    def synthesize(self, text: str) -> bytes:
        """PCM16 mono at ``self.rate`` for one sentence."""
        ...


class Recognizer(Protocol):
    """Streaming speech → text for one utterance at a time. CPU-bound: run in a thread."""

    name: str
    rate: int  # the rate it wants (16000 for pocketsphinx)

    def start(self) -> None: ...

    def feed(self, pcm: bytes) -> str | None:
        """Audio at ``self.rate``; returns the partial hypothesis when it changed."""
        ...

    def finish(self) -> str:
        """The final hypothesis of the utterance ("" when nothing was understood)."""
        ...
