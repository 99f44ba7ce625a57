"""One place for what the CLI prints: data to stdout, messages to stderr, all redacted."""

from __future__ import annotations

import json
import sys
from typing import Any

from voicecli.secrets import redact


def error_line(message: str) -> str:
    return redact(f"voicecli: error: {message}")


def print_error(message: str) -> None:
    """One ``voicecli: error:`` line per line of ``message`` (a config file with several bad
    fields has one line for each)."""
    for line in message.splitlines() or [""]:
        print(error_line(line), file=sys.stderr, flush=True)


def print_notice(message: str) -> None:
    print(redact(f"voicecli: {message}"), file=sys.stderr, flush=True)


def print_json(data: Any) -> None:
    sys.stdout.write(redact(json.dumps(data, ensure_ascii=False, default=str)) + "\n")
    sys.stdout.flush()

