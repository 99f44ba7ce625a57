"""How a session's end is told: the provider's end message merged with the socket close,
and the final :class:`SessionClosed` with the exit code that matches its failure."""

from __future__ import annotations

from voicecli.errors import ProtocolError
from voicecli.protocol.events import SessionEnded
from voicecli.secrets import redact
from voicecli.session.events import SessionClosed

FAILURE_EXIT_CODES = {"auth": 4, "not_found": 5, "network": 6, "protocol": 7, "timeout": 8}


def merge_end(first: SessionEnded, later: SessionEnded) -> SessionEnded:
    """A provider's end message followed by the socket close: keep the message's reason,
    take the close code from the socket, and keep whichever error is known (with the close
    code in it)."""
    code = later.close_code if later.close_code is not None else first.close_code
    error = first.error or later.error
    if error and code is not None and f"code {code}" not in error:
        error = f"{error} (code {code})"  # every failure names its close code
    return SessionEnded(reason=first.reason, close_code=code, retryable=first.retryable and later.retryable,
                        error=error, failure=first.failure or later.failure)


def one_line(text: str, limit: int = 300) -> str:
    """A peer's words (a close reason, an error message) as one short line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def closed_from_end(end: SessionEnded | None, asked_to_close: bool) -> SessionClosed:
    """The final event. An error after the user asked to close is not a failure."""
    if end is None:
        return SessionClosed(reason="closed")
    if end.error and not asked_to_close:
        exit_code = FAILURE_EXIT_CODES.get(end.failure or "protocol", ProtocolError.exit_code)
        return SessionClosed(reason=end.reason, close_code=end.close_code, error=redact(one_line(end.error)),
                             exit_code=exit_code)
    return SessionClosed(reason=end.reason, close_code=end.close_code)
