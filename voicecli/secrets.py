"""Secrets that never print: a wrapper type and a process-wide redactor.

Every secret that enters voicecli is wrapped in :class:`Secret`, which registers its
value with the redactor. ``redact(text)`` replaces every registered value (and its
URL-encoded form), credential query parameters, bearer tokens and the password of a URL's
userinfo with ``***``; the CLI runs all user-facing text, logs and saved files through it.
Profile header values and URL passwords are registered when a profile is resolved.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import quote

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None

MASK = "***"
# Query parameters that carry credentials; their values are masked even when the
# value itself was never registered (for example a token a server handed us).
_QUERY_KEYS = re.compile(r"(?i)([?&](?:token|api_key|apikey|key|signature|xi-api-key)=)[^&\s\"']+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# a password in a URL's userinfo (scheme://user:PASSWORD@host)
_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^/\s:@'\"]*:)[^@/\s'\"]+@")


def _rebuild() -> None:
    global _pattern
    forms = set()
    for value in _values:
        forms.add(value)
        forms.add(quote(value, safe=""))
    parts = sorted((re.escape(f) for f in forms if f), key=len, reverse=True)
    _pattern = re.compile("|".join(parts)) if parts else None


def register(value: str) -> None:
    """Remember a secret value so that :func:`redact` masks it everywhere."""
    if not value or len(value) < 4:
        return
    with _lock:
        if value not in _values:
            _values.add(value)
            _rebuild()


def redact(text: str) -> str:
    """Mask every registered secret, credential query parameter, bearer token and URL
    userinfo password."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _QUERY_KEYS.sub(lambda m: m.group(1) + MASK, text)
    text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    return _BEARER.sub(lambda m: m.group(1) + MASK, text)


class Secret:
    """A string that shows as ``***`` in repr, str and f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        return True
