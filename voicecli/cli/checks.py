"""Checks of command-line input, run before anything connects: each failure is a one-line
:class:`~voicecli.errors.UsageError` (exit 2)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from voicecli.errors import UsageError

MAX_SECONDS = 7 * 24 * 3600.0  # beyond this a timer overflows the event loop's clock math
RATE_RANGE = (8000, 48000)  # every provider's rates lie inside


def seconds(option: str, value: float | None, *, zero_ok: bool = False) -> float | None:
    """A duration option: a finite number of seconds, above zero (or zero when allowed)."""
    if value is None:
        return None
    low_ok = value >= 0 if zero_ok else value > 0
    if not math.isfinite(value) or not low_ok or value > MAX_SECONDS:
        bound = "0 or more" if zero_ok else "more than 0"
        raise UsageError(f"{option} must be a number of seconds, {bound} and at most "
                         f"{MAX_SECONDS:g}; got {value:g}")
    return value


def sample_rate(value: int | None) -> int | None:
    if value is None:
        return None
    low, high = RATE_RANGE
    if not low <= value <= high:
        raise UsageError(f"--sample-rate must be between {low} and {high} Hz; got {value}")
    return value


def texts(values: list[str]) -> list[str]:
    for value in values:
        if not value.strip():
            raise UsageError("--text must not be empty: give the words to send")
    return values


def writable_file(option: str, path: Path | None) -> Path | None:
    """A file we will write after the session: it must not be a directory, and the file
    (or the nearest existing folder above it) must be writable."""
    if path is None:
        return None
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file name")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise UsageError(f"{option} {path} is not writable")
        return path
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot create files in {parent}")
    return path


def writable_folder(option: str, path: Path) -> Path:
    """A folder we will write into (created when missing): it must not be a file, and it
    (or the nearest existing folder above it) must be writable."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} is a file; give a directory")
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot create files in {parent}")
    return path
