"""One mapping of socket ends that a dialect has no documented meaning for.

Every adapter's ``on_close`` maps its provider's documented close codes itself and hands
the rest here, so a lost connection or an unexpected code reads (and exits) the same in
every dialect:

- no close frame (``None``) or 1006: "the connection to the X server was lost (no close
  frame)", failure ``network`` (exit 6), retryable;
- 1009: the server sent a frame larger than the client accepts, failure ``protocol``
  (exit 7), not retryable;
- 1000/1001 with no error: a clean end (no error);
- any other code: "X closed the connection unexpectedly (code N...)", failure
  ``protocol`` (exit 7); retryable unless the code says the peer refused what it got
  (1002, 1003, 1007, 1008, 1010).
"""

from __future__ import annotations

from voicecli.protocol.events import SessionEnded

CLEAN_CODES = (1000, 1001)
LOST_CODES = (None, 1006)
TOO_LARGE = 1009
FINAL_CODES = frozenset({1002, 1003, 1007, 1008, 1010})  # the peer refused what it got


def connection_lost(server: str, code: int | None = None) -> SessionEnded:
    return SessionEnded(reason="connection lost", close_code=code, retryable=True,
                        error=f"the connection to the {server} server was lost (no close frame)",
                        failure="network")


def unexpected_close(server: str, code: int | None, reason: str, detail: str = "") -> SessionEnded:
    """The end for a close the dialect does not document (see the module docstring)."""
    if code in LOST_CODES:
        return connection_lost(server, code)
    if code == TOO_LARGE:
        what = reason or "a frame over the client's size limit"
        return SessionEnded(reason="frame too large", close_code=code, retryable=False,
                            error=f"the {server} server sent a frame too large ({what}; code 1009)",
                            failure="protocol")
    if code in CLEAN_CODES and not detail:
        return SessionEnded(reason=reason or "closed", close_code=code)
    told = detail or reason
    return SessionEnded(reason=reason or "closed", close_code=code, retryable=code not in FINAL_CODES,
                        error=f"{server} closed the connection unexpectedly (code {code}"
                              + (f": {told})" if told else ")"), failure="protocol")
