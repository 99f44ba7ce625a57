"""The app base: Textual's crash report without local variables."""

from __future__ import annotations

from typing import TypeVar

from textual.app import App

ReturnType = TypeVar("ReturnType")


class QuietCrashApp(App[ReturnType]):
    """Textual prints an unexpected exception with the locals of every frame; those
    could hold keys or tokens, so this app prints the traceback without them."""

    def _fatal_error(self) -> None:
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()
