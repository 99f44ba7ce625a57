"""Configuration of the local agent server."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

BRAINS = ("auto", "echo", "rules", "llm")


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
    - ``voiceagent_auth``: the VoiceAgent endpoint requires ``Authorization: Bearer KEY``
      (the SDK has no auth, so by default it needs none, even when ``api_key`` is set).
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
    voiceagent_auth: bool = False
    allow_faults: bool = False
    faults: str | None = None

    def __post_init__(self) -> None:
        if self.brain not in BRAINS:
            raise ValueError(f"unknown brain {self.brain!r}: expected one of {', '.join(BRAINS)}")
        if not 10 <= self.chunk_ms <= 100:
            raise ValueError("chunk_ms must be between 10 and 100")
        if self.vad_hangover_ms < 0:
            raise ValueError("vad_hangover_ms must not be negative")
