"""What ``talk`` shows while the session reconnects, and ``/reconnect``.

The session reconnects by itself (same event stream, same transcript); this keeps the one
thing the app must know, whether a new connection is awaited, and words each reconnect
event as a notice line (the status bar shows the same state).
"""

from __future__ import annotations

from voicecli.protocol.events import Event, SessionStarted
from voicecli.session.events import ConnectionLost, Reconnected, ReconnectGaveUp, Reconnecting
from voicecli.tui.binding import SessionLike
from voicecli.tui.state import reconnecting

Line = tuple[str, str]  # notice text, level


class ReconnectView:
    def __init__(self) -> None:
        self.active = False  # a connection was lost and no new one is live yet

    def apply(self, event: Event) -> Line | None:
        """Follow one session event; the notice line to show for it, if any."""
        if isinstance(event, (SessionStarted, Reconnected)):
            self.active = False
        elif isinstance(event, ConnectionLost):
            self.active = True
            cut = " (the agent's reply was cut)" if event.mid_reply else ""
            return f"connection lost{cut}: {event.error}", "warning"
        elif isinstance(event, Reconnecting):
            self.active = True
            return f"{reconnecting(event)} · /reconnect to try now", "warning"
        elif isinstance(event, ReconnectGaveUp):
            self.active = True
            return f"{event.why} · /reconnect to try again, ctrl+c to leave", "error"
        return None

    def request(self, session: SessionLike | None, ended: bool) -> Line:
        """``/reconnect``: skip the wait, or try again after the session gave up."""
        if session is None or ended:
            return "the session has ended: start voicecli talk again to reconnect", "warning"
        if not self.active:
            return "connected: nothing to reconnect", "info"
        if not session.reconnect_now():
            return "cannot reconnect this session", "warning"
        return "reconnecting now", "info"
