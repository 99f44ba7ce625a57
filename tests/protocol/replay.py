"""Replay recorded frame transcripts through a client adapter, with no socket.

Transcript format (``tests/protocol/frames/<dialect>/*.jsonl``), one JSON object a line;
blank lines and lines starting with ``#`` are skipped:

``{"dir": "config", "url": ..., "agent_id": ..., "api_key": ..., "mode": ...,
"sample_rate": ..., "variables": {...}, "headers": {...}, "options": {...}}``
    The adapter's configuration (first line; every key but ``url`` optional).
``{"dir": "http", "status": 200, "body": {...} | "text"}``
    The answer to the request ``prepare()`` returned (``prepare()`` is called first).
``{"dir": "out", "handshake": true, "frame": ...}``
    A frame the client sent right after the socket opened: compared with
    ``handshake().initial_frames`` in order.
``{"dir": "open", "expect": [...]}``
    The socket opened: ``on_open()`` must return events of these class names.
``{"dir": "out", "cmd": {"SendText": {"text": "hi"}}, "frame": ... | "frames": [...]}``
    A frame the client sent for a command: ``encode(cmd)`` must give exactly these
    frames (``"frames": []`` for a command that sends nothing).
``{"dir": "in", "frame": ..., "expect": [...]}``
    A frame the server sent: ``feed(frame)`` must return events of these class names.
``{"dir": "close", "code": 1000, "reason": "", "expect": [...]}``
    The socket closed: ``on_close(code, reason)``.

``frame`` is the text frame as it was on the wire (a string, valid JSON or not), or
``{"b64": ...}`` for a binary frame. JSON text frames are compared parsed, so key
order does not matter. Every step's events are kept for detailed assertions.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicecli.protocol import commands
from voicecli.protocol.base import Adapter, DialectConfig, Frame
from voicecli.protocol.events import Event
from voicecli.secrets import Secret

FRAMES = Path(__file__).parent / "frames"


@dataclass
class Step:
    line: int
    entry: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)


@dataclass
class Replay:
    adapter: Adapter
    steps: list[Step]

    @property
    def events(self) -> list[Event]:
        return [ev for step in self.steps for ev in step.events]

    @property
    def sent(self) -> list[Frame]:
        return [fr for step in self.steps for fr in step.frames]


def load(path: Path) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            out.append((number, json.loads(line)))
    return out


def decode_frame(value: Any) -> Frame:
    if isinstance(value, dict) and "b64" in value:
        return base64.b64decode(value["b64"])
    if isinstance(value, str):
        return value
    raise ValueError(f"bad frame in transcript: {value!r}")


def config_from(entry: dict[str, Any]) -> DialectConfig:
    key = entry.get("api_key")
    return DialectConfig(
        url=entry["url"], agent_id=entry.get("agent_id"),
        api_key=Secret(key) if key else None, sample_rate=entry.get("sample_rate"),
        mode=entry.get("mode"), variables=entry.get("variables", {}),
        headers=entry.get("headers", {}), options=entry.get("options", {}))


def command_from(spec: dict[str, Any]) -> commands.Command:
    ((name, args),) = spec.items()
    cls = getattr(commands, name)
    args = dict(args or {})
    if "pcm_b64" in args:
        args["pcm"] = base64.b64decode(args.pop("pcm_b64"))
    command: commands.Command = cls(**args)
    return command


def same_frame(actual: Frame, expected: Frame) -> bool:
    if isinstance(actual, bytes) or isinstance(expected, bytes):
        return actual == expected
    try:
        return bool(json.loads(actual) == json.loads(expected))
    except ValueError:
        return actual == expected


def names(events: list[Event]) -> list[str]:
    return [type(ev).__name__ for ev in events]


def replay(path: Path, adapter_cls: type[Adapter]) -> Replay:
    """Run a transcript; raise AssertionError (with the line number) on any mismatch."""
    entries = load(path)
    number, first = entries[0]
    assert first["dir"] == "config", f"{path.name}:{number}: the first line must be the config"
    adapter = adapter_cls(config_from(first))
    steps: list[Step] = []
    initial: list[Frame] | None = None
    for number, entry in entries[1:]:
        where = f"{path.name}:{number}"
        step = Step(number, entry)
        kind = entry["dir"]
        if kind == "http":
            request = adapter.prepare()
            assert request is not None, f"{where}: prepare() asked for no request"
            body = entry.get("body", b"")
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            adapter.on_http_response(int(entry["status"]), raw)
        elif kind == "out" and entry.get("handshake"):
            if initial is None:
                assert adapter.prepare() is None, f"{where}: prepare() still wants a request"
                initial = list(adapter.handshake().initial_frames)
            assert initial, f"{where}: handshake() sent fewer initial frames than recorded"
            frame = initial.pop(0)
            step.frames = [frame]
            assert same_frame(frame, decode_frame(entry["frame"])), f"{where}: initial frame {frame!r}"
        elif kind == "open":
            step.events = adapter.on_open()
        elif kind == "out":
            expected = [decode_frame(f) for f in entry["frames"]] if "frames" in entry \
                else [decode_frame(entry["frame"])]
            step.frames = adapter.encode(command_from(entry["cmd"]))
            assert len(step.frames) == len(expected) and all(
                same_frame(a, e) for a, e in zip(step.frames, expected, strict=True)
            ), f"{where}: encode gave {step.frames!r}, recorded {expected!r}"
        elif kind == "in":
            step.events = adapter.feed(decode_frame(entry["frame"]))
        elif kind == "close":
            step.events = adapter.on_close(entry.get("code"), entry.get("reason", ""))
        else:
            raise AssertionError(f"{where}: unknown dir {kind!r}")
        if "expect" in entry:
            assert names(step.events) == entry["expect"], \
                f"{where}: events {names(step.events)} != {entry['expect']} ({step.events!r})"
        steps.append(step)
    return Replay(adapter, steps)


def transcripts(dialect: str) -> list[Path]:
    return sorted((FRAMES / dialect).glob("*.jsonl"))
