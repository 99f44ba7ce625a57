"""Error types shared by every layer, each with a one-line message and a process exit code.

The exit codes are part of the CLI contract (documented in the README):

    0  success
    1  unexpected internal error
    2  bad usage (unknown option, bad value)
    3  configuration error (bad config file, missing API key)
    4  authentication failed
    5  agent or endpoint not found
    6  network error (refused, DNS, TLS, server unavailable)
    7  protocol error (peer broke the protocol, or ended the session with an error)
    8  timeout
    9  expectation failed (smoke --expect)
    10 audio device error
    130 interrupted (Ctrl+C)
"""

from __future__ import annotations


class VoicecliError(Exception):
    """Base of every error voicecli reports to a user. ``str(err)`` is one line."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable

    def __str__(self) -> str:
        return self.message


class UsageError(VoicecliError):
    exit_code = 2
    kind = "usage"


class ConfigError(VoicecliError):
    exit_code = 3
    kind = "config"


class AuthError(VoicecliError):
    exit_code = 4
    kind = "auth"


class NotFoundError(VoicecliError):
    exit_code = 5
    kind = "not_found"


class NetworkError(VoicecliError):
    exit_code = 6
    kind = "network"


class ProtocolError(VoicecliError):
    """The peer broke the protocol or ended the session with an error."""

    exit_code = 7
    kind = "protocol"


class SessionTimeout(VoicecliError):
    exit_code = 8
    kind = "timeout"


class ExpectationFailed(VoicecliError):
    exit_code = 9
    kind = "expectation"


class AudioDeviceError(VoicecliError):
    exit_code = 10
    kind = "audio"


EXIT_INTERRUPTED = 130
