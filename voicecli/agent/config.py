"""Configuration of the local agent server."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

BRAINS = ("auto", "echo", "rules", "llm")

SESSIONS_PER_CORE = 64
SESSION_BUDGET_MB = 40  # memory set aside per session for the default cap (a speech session uses < 10)
RECOGNIZER_MB = 100  # one PocketSphinx decoder with the US English models


def cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def available_mb() -> int:
    """Memory available to new work, from ``/proc/meminfo`` (else a quarter of the total)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4 // (1 << 20)
    except (AttributeError, OSError, ValueError):
        return 1024


def default_max_sessions() -> int:
    """64 sessions per core, as many as half the available memory holds at 40 MB each; at least 8."""
    return max(8, min(SESSIONS_PER_CORE * cores(), available_mb() // 2 // SESSION_BUDGET_MB))


def default_max_recognizers() -> int:
    """Two recognizers per core, as many as a quarter of the available memory holds; at least 1."""
    return max(1, min(2 * cores(), available_mb() // 4 // RECOGNIZER_MB))


@dataclass(frozen=True)
class AgentConfig:
    """How a :class:`~voicecli.agent.server.LocalAgent` behaves.

    - ``api_key``: the key clients must present; ``None`` = no authentication (the
      in-process embedded agent).
    - ``agent_ids``: the agent ids the server answers to; ``None`` = any id.
    - ``public_agents``: agent ids that need no key or signed URL even when the server has
      an API key (ElevenLabs public agents); they are answered to as well.
    - ``greeting``: what the agent says on connect; ``None`` = the brain's greeting,
      ``""`` = no greeting.
    - ``brain``: ``auto`` (rules when available, else echo), ``echo``, ``rules`` or ``llm``;
      ``brain_options`` go to the brain (llm: ``url``, ``model``, ``api_key_env``).
    - ``speech``: use the offline synthesizer/recognizer when installed; ``False`` always
      uses the tone voice and no recognizer (fast, deterministic).
    - ``vad_hangover_ms`` / ``vad_threshold_db``: silence that ends a user turn, and the
      level that counts as speech.
    - ``barge_in``: user speech while the agent talks interrupts it.
    - ``chunk_ms``: output audio chunk length (20-40 ms), paced in real time.
    - ``speed``: the pace of paced audio against real time (1.0); ``math.inf`` sends the
      same chunks, words and events in the same order with no waiting (a virtual clock:
      for tests that do not measure timing).
    - ``voiceagent_auth``: the VoiceAgent endpoint requires ``Authorization: Bearer KEY``
      (the SDK has no auth, so by default it needs none, even when ``api_key`` is set).
    - ``max_sessions``: WebSocket sessions at once; one more is refused with HTTP 503.
      ``None``: :func:`default_max_sessions` (from the cores and the available memory).
    - ``max_recognizers``: speech recognizers the sessions share (each is lent for one
      utterance); ``None``: :func:`default_max_recognizers`.
    - ``allow_faults``: honour ``?fault=...`` on connections; ``faults`` applies a fault
      plan to every connection (see :mod:`voicecli.agent.faults`).
    """

    api_key: str | None = None
    agent_ids: Collection[str] | None = None
    public_agents: Collection[str] = ()
    greeting: str | None = None
    brain: str = "auto"
    brain_options: Mapping[str, Any] = field(default_factory=dict)
    speech: bool = True
    vad_hangover_ms: int = 600
    vad_threshold_db: float = -40.0
    vad_min_speech_ms: int = 60
    barge_in: bool = True
    chunk_ms: int = 40
    speed: float = 1.0
    voiceagent_auth: bool = False
    allow_faults: bool = False
    faults: str | None = None
    max_sessions: int | None = None
    max_recognizers: int | None = None

    def __post_init__(self) -> None:
        if self.brain not in BRAINS:
            raise ValueError(f"unknown brain {self.brain!r}: expected one of {', '.join(BRAINS)}")
        if not 10 <= self.chunk_ms <= 100:
            raise ValueError("chunk_ms must be between 10 and 100")
        if not self.speed > 0:
            raise ValueError("speed must be positive")
        if self.vad_hangover_ms < 0:
            raise ValueError("vad_hangover_ms must not be negative")
        if self.max_sessions is not None and self.max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        if self.max_recognizers is not None and self.max_recognizers < 1:
            raise ValueError("max_recognizers must be at least 1")

    def session_limit(self) -> int:
        return self.max_sessions if self.max_sessions is not None else default_max_sessions()

    def recognizer_limit(self) -> int:
        return self.max_recognizers if self.max_recognizers is not None else default_max_recognizers()
