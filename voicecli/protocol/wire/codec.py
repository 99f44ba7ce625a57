"""Typed wire messages: frozen dataclasses read from and written to JSON in one place.

A dialect's vocabulary (``voicecli.protocol.wire.<dialect>``) declares each message as a
frozen dataclass subclassing :class:`Message`:

- ``TYPE``: the value of the message's ``"type"`` field;
- ``BODY``: the name of the object that holds the fields (ElevenLabs nests them, e.g.
  ``{"type": "audio", "audio_event": {...}}``), or ``None`` when they sit beside ``type``;
- ``TYPED = False`` for a message with no ``type`` at all (ElevenLabs' mic audio
  ``{"user_audio_chunk": ...}``); it is recognised by its first field's name.

A field's annotation is its wire type: ``str``, ``int`` (never a bool), ``float`` (an int
too), ``bool``, ``bytes`` (base64 text on the wire), ``dict[str, X]``, ``list[X]``, a
nested dataclass (an object), ``Any``, unions of these and ``| None``. A field with a
default is optional; a JSON ``null`` there counts as absent (but in an ``Any`` field, whose
default :data:`ABSENT` tells the two apart where it matters). Fields the dataclass does not
declare are ignored (the vendor schemas leave their objects open). ``wire_name`` gives a
field whose wire name is not a good Python name (``type`` inside a body); ``keep_null``
writes ``null`` for a ``None`` value instead of leaving the field out. A dataclass may
check values further in a ``check()`` method raising :class:`Invalid`; it runs when a
message is read, never when one is built (a client may send what its user configured and
leave the verdict to the server).

Reading a text that is not JSON, not an object, has no type or an unknown one, lacks a
required field or holds a value of the wrong type raises :class:`WireError`, the one
error of this layer for what a peer sent: it names the message type and the field.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import types
import typing
from collections.abc import Callable, Collection, Mapping
from functools import cache
from typing import Any, ClassVar

MAX_JSON_CHARS = 8 * 1024 * 1024  # no provider sends a JSON message near this
MAX_JSON_DEPTH = 64  # real messages nest a few levels; tool arguments a few more

# what went wrong, coarsely: how a caller maps it (unknown types are often just skipped)
JSON, NO_TYPE, UNKNOWN_TYPE, MISSING, INVALID = "json", "no_type", "unknown_type", "missing", "invalid"


class WireError(ValueError):
    """A message that breaks the dialect's vocabulary. ``message_type`` and ``field``
    (a dotted path inside the message) say where; ``kind`` is one of ``json``,
    ``no_type``, ``unknown_type``, ``missing`` and ``invalid``."""

    def __init__(self, problem: str, *, kind: str = INVALID, message_type: str | None = None,
                 field: str | None = None) -> None:
        self.problem, self.kind, self.message_type, self.field = problem, kind, message_type, field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.message_type, self.field) if p)
        return f"{where}: {self.problem}" if where else self.problem


class Invalid(ValueError):  # noqa: N818 - raised by check(), turned into a WireError
    """A value outside what the protocol allows, raised by a dataclass's own checks."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field, self.problem = field, problem


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """Base of every wire message."""

    TYPE: ClassVar[str] = ""
    BODY: ClassVar[str | None] = None
    TYPED: ClassVar[bool] = True


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""The default of an ``Any`` field that must tell a ``null`` on the wire from no field."""


def wire_name(name: str, **kwargs: Any) -> Any:
    """A dataclass field whose wire name is ``name``."""
    return dataclasses.field(metadata={"wire": name}, **kwargs)


def keep_null(**kwargs: Any) -> Any:
    """A dataclass field written as ``null`` when it is ``None``."""
    return dataclasses.field(metadata={"keep_null": True}, **kwargs)


# ---- reading ---------------------------------------------------------------------------------

@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    if origin is not None:
        return {dict: "an object", list: "a list"}.get(origin, str(origin))
    if dataclasses.is_dataclass(tp):
        return "an object"
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
            bytes: "base64 text", dict: "an object", list: "a list"}.get(tp, getattr(tp, "__name__", str(tp)))


class _Bad(Exception):
    """A value of the wrong type at ``path`` (relative); carried up to the message."""

    def __init__(self, path: str, problem: str, kind: str = INVALID) -> None:
        super().__init__(problem)
        self.path, self.problem, self.kind = path, problem, kind


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _value(tp: Any, value: Any, path: str) -> Any:
    """``value`` read as wire type ``tp`` (see the module docstring); raises _Bad."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp) or tp
    reader = _READERS.get(origin)
    if reader is None and dataclasses.is_dataclass(tp):
        reader = _read_object
    if reader is None:  # pragma: no cover - a vocabulary's own mistake
        raise TypeError(f"no wire type {tp!r}")
    return reader(tp, value, path)


def _read_union(tp: Any, value: Any, path: str) -> Any:
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    if value is None and len(args) < len(typing.get_args(tp)):
        return None
    if len(args) == 1:  # ``X | None``: X's own error, with its path
        return _value(args[0], value, path)
    for arg in args:
        try:
            return _value(arg, value, path)
        except _Bad:
            continue
    raise _Bad(path, f"must be {_type_name(tp)}")


def _read_dict(tp: Any, value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise _Bad(path, "must be an object")
    kv = typing.get_args(tp)
    if kv and kv[1] is not Any:
        return {k: _value(kv[1], v, _join(path, str(k))) for k, v in value.items()}
    return value


def _read_list(tp: Any, value: Any, path: str) -> Any:
    if not isinstance(value, list):
        raise _Bad(path, "must be a list")
    item = typing.get_args(tp)
    if item and item[0] is not Any:
        return [_value(item[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _read_object(tp: Any, value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise _Bad(path, "must be an object")
    return _fields(tp, value, path)


def _read_bytes(_tp: Any, value: Any, path: str) -> bytes:
    if not isinstance(value, str):
        raise _Bad(path, "must be base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Bad(path, "is not valid base64") from None


def _read_float(_tp: Any, value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(path, "must be a number")
    return float(value)


def _read_exact(tp: Any, value: Any, path: str) -> Any:
    """A string, an integer (never a bool) or a boolean."""
    if isinstance(value, bool) is not (tp is bool) or not isinstance(value, tp):
        raise _Bad(path, f"must be {_type_name(tp)}")
    return value


_READERS: dict[Any, Callable[[Any, Any, str], Any]] = {
    types.UnionType: _read_union, typing.Union: _read_union, dict: _read_dict, list: _read_list,
    bytes: _read_bytes, float: _read_float, str: _read_exact, int: _read_exact, bool: _read_exact,
}


def _fields(cls: type, obj: Mapping[str, Any], path: str) -> Any:
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        name = f.metadata.get("wire", f.name)
        raw = obj.get(name)
        optional = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if raw is None and optional and (name not in obj or hints[f.name] is not Any):
            continue  # a null counts as absent, but where the field takes anything
        if name not in obj:
            raise _Bad(_join(path, name), "is missing", MISSING)
        values[f.name] = _value(hints[f.name], raw, _join(path, name))
    made = cls(**values)
    check = getattr(made, "check", None)
    try:
        if check is not None:
            check()
    except Invalid as exc:
        raise _Bad(_join(path, exc.field), exc.problem) from None
    return made


def read_message(cls: type[Message], obj: Mapping[str, Any], body_optional: bool = False) -> Message:
    """``obj`` (a decoded JSON object) as a ``cls`` message; raises :class:`WireError`.
    With ``body_optional``, a message without its ``BODY`` object holds the defaults."""
    try:
        if cls.BODY is None:
            return typing.cast(Message, _fields(cls, obj, ""))
        body = obj.get(cls.BODY)
        if body is None and body_optional:
            body = {}
        elif body is None:
            raise _Bad(cls.BODY, "is missing", MISSING)
        return typing.cast(Message, _value(cls, body, cls.BODY))
    except _Bad as bad:
        raise WireError(bad.problem, kind=bad.kind, message_type=cls.TYPE, field=bad.path) from None


class JsonLimitError(ValueError):
    """A JSON text over :data:`MAX_JSON_CHARS` or nested deeper than :data:`MAX_JSON_DEPTH`."""


def parse_json(text: str | bytes) -> Any:
    """``json.loads`` for text from a peer: a text over the size limit or nested too deeply
    raises :class:`JsonLimitError` (a ``ValueError``, like invalid JSON), never
    ``RecursionError`` or a long parse."""
    if len(text) > MAX_JSON_CHARS:
        raise JsonLimitError("frame too large")
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonLimitError("nested too deeply") from None
    if isinstance(value, (dict, list)) and _too_deep(value):
        raise JsonLimitError("nested too deeply")
    return value


def _too_deep(value: dict[str, Any] | list[Any]) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def load_object(text: str | bytes) -> dict[str, Any]:
    """A frame's JSON object; raises :class:`WireError` (kind ``json``) for anything else."""
    try:
        obj = parse_json(text)
    except JsonLimitError as exc:
        raise WireError(str(exc), kind=JSON) from None
    except (ValueError, UnicodeDecodeError):
        raise WireError("not valid JSON", kind=JSON) from None
    if not isinstance(obj, dict):
        raise WireError("not a JSON object", kind=JSON)
    return obj


@dataclasses.dataclass(frozen=True, slots=True)
class Unhandled(Message):
    """A message of a type the vendor documents that this project does not interpret."""

    name: str
    payload: Mapping[str, Any]


class Vocabulary:
    """The messages one side of a dialect sends: reads a frame as one of them."""

    def __init__(self, messages: Collection[type[Message]], unhandled: Collection[str] = (),
                 optional_body: Collection[str] = ()) -> None:
        self.typed = {m.TYPE: m for m in messages if m.TYPED}
        self.untyped = [m for m in messages if not m.TYPED]
        self.unhandled = frozenset(unhandled)
        self.optional_body = frozenset(optional_body)

    def parse(self, text: str | bytes) -> Message:
        """One frame as a message; raises :class:`WireError`."""
        return self.read(load_object(text))

    def read(self, obj: Mapping[str, Any]) -> Message:
        kind = obj.get("type")
        if kind is None:
            for cls in self.untyped:
                if dataclasses.fields(cls)[0].name in obj:
                    return read_message(cls, obj)
        if not isinstance(kind, str):
            raise WireError("the message has no type", kind=NO_TYPE)
        known = self.typed.get(kind)
        if known is not None:
            return read_message(known, obj, kind in self.optional_body)
        if kind in self.unhandled:
            return Unhandled(kind, dict(obj))
        raise WireError("unknown message type", kind=UNKNOWN_TYPE, message_type=kind[:60])


# ---- writing ---------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is ABSENT:
                continue
            if item is not None or f.metadata.get("keep_null"):
                out[f.metadata.get("wire", f.name)] = _plain(item)
        return out
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_object(message: Message) -> dict[str, Any]:
    """``message`` as the JSON object that goes on the wire."""
    fields: dict[str, Any] = _plain(message)
    if not message.TYPED:
        return fields
    if message.BODY is not None:
        return {"type": message.TYPE, message.BODY: fields}
    return {"type": message.TYPE, **fields}


def encode(message: Message, *, compact: bool = False) -> str:
    """``message`` as a JSON text frame."""
    return json.dumps(to_object(message), separators=(",", ":") if compact else None)
