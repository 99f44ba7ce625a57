"""Brains by name: ``make_brain("rules")``, ``make_brain("llm", url=..., model=...)``."""

from __future__ import annotations

from typing import Any

from voicecli.agent.voice_contracts import Brain

BRAINS = ("echo", "rules", "llm")


def make_brain(name: str, **options: Any) -> Brain:
    """Build the brain called ``name`` with ``options`` (``None`` values are ignored).

    Raises ``ValueError`` for an unknown name, a missing required option (the llm brain
    needs ``url`` and ``model``) or an option the brain does not take.
    """
    options = {key: value for key, value in options.items() if value is not None}
    key = name.strip().lower()
    if key == "echo":
        from voicecli.agent.brains.echo import EchoBrain

        factory: Any = EchoBrain
    elif key == "rules":
        from voicecli.agent.brains.rules import RulesBrain

        factory = RulesBrain
    elif key == "llm":
        from voicecli.agent.brains.llm import LlmBrain

        missing = [opt for opt in ("url", "model") if not options.get(opt)]
        if missing:
            flags = " and ".join(f"--llm-{opt}" for opt in missing)
            raise ValueError(f"the llm brain needs {flags}")
        factory = LlmBrain
    else:
        raise ValueError(f"unknown brain {name!r}: choose one of {', '.join(BRAINS)}")
    try:
        brain: Brain = factory(**options)
    except TypeError as exc:
        raise ValueError(f"the {key} brain does not take these options: {exc}") from exc
    return brain
