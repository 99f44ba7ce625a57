"""Map low-level network exceptions to voicecli errors with one-line messages."""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

from voicecli.errors import NetworkError, SessionTimeout, VoicecliError
from voicecli.secrets import redact


def where(url: str) -> str:
    parts = urlsplit(url)
    return redact(f"{parts.scheme}://{parts.netloc}")


def map_os_error(exc: BaseException, url: str, timeout: float | None = None) -> VoicecliError:
    target = where(url)
    if isinstance(exc, (TimeoutError,)):
        secs = f" after {timeout:g} s" if timeout else ""
        return SessionTimeout(f"timed out connecting to {target}{secs}")
    if isinstance(exc, socket.gaierror):
        host = urlsplit(url).hostname or target
        return NetworkError(f"cannot resolve host {host!r} (DNS lookup failed)")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return NetworkError(f"TLS certificate check failed for {target}: {exc.verify_message}")
    if isinstance(exc, ssl.SSLError):
        return NetworkError(f"TLS handshake with {target} failed ({exc.reason or exc})")
    if isinstance(exc, ConnectionRefusedError):
        return NetworkError(f"connection refused by {target}: is the server running?", retryable=True)
    if isinstance(exc, OSError):
        reason = exc.strerror or exc.__class__.__name__
        return NetworkError(f"network error talking to {target}: {reason}", retryable=True)
    return NetworkError(f"network error talking to {target}: {exc.__class__.__name__}")
