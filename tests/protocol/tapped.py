"""Frames seen by the local agent's frame tap (``LocalAgent(config, tap=...)``), checked
against the vendor schemas both ways: what clients sent against the client messages,
what the server sent against the server messages.

    frames = TappedFrames()
    async with LocalAgent(config, tap=frames) as agent:
        ...
    frames.validate("elevenlabs")
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.protocol.schemas import validate

Frame = str | bytes


@dataclass
class TappedFrames:
    """A frame tap that keeps every data frame as ``(dialect, side, frame)``."""

    frames: list[tuple[str, str, Frame]] = field(default_factory=list)

    def __call__(self, dialect: str, side: str, frame: Frame) -> None:
        self.frames.append((dialect, side, frame))

    def messages(self, side: str) -> list[dict[str, Any]]:
        """The JSON messages one side sent (``client`` or ``server``), in order."""
        return [json.loads(f) for _d, s, f in self.frames if s == side and isinstance(f, str)]

    def kinds(self, side: str) -> list[str]:
        """Each message's ``type`` (``user_audio_chunk`` for the untyped audio message)."""
        return [str(m.get("type") or next(iter(m), "")) for m in self.messages(side)]

    def validate(self, name: str, *, strict_server: bool = True) -> int:
        """Validate every frame against ``<name>``'s vendor schemas; the count checked.
        Client messages are always checked strictly (closed objects); pass
        ``strict_server=False`` where the vendor's server schema is open."""
        assert self.frames, "the tap saw no frames"
        for _dialect, side, frame in self.frames:
            validate(name, frame, side=side, strict=side == "client" or strict_server)
        return len(self.frames)
