"""Recording a live session on request: ``--record DIR`` at start, ``/record DIR`` and
``/record off`` (or ``stop``) while it runs.

One recording at a time: starting a new one stops the one running (both files are named
in the answer). Every file started is remembered for the summary at exit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from voicecli.session.options import SessionOptions
from voicecli.session.surface import SessionSurface

if TYPE_CHECKING:
    from voicecli.audio.recorder import Recorder

#: words that stop the recording instead of naming a directory
STOP_WORDS = ("off", "stop")


class Recordings:
    """Starts and stops recorders on a session's options (``options.recorder``)."""

    def __init__(self, factory: Callable[..., Recorder] | None = None) -> None:
        if factory is None:
            from voicecli.audio.recorder import Recorder

            factory = Recorder
        self._factory = factory
        self._recorder: Recorder | None = None
        self.files: list[Path] = []

    @property
    def current(self) -> Path | None:
        """The WAV file being recorded, or None."""
        return Path(self._recorder.path) if self._recorder is not None else None

    def _name(self, directory: Path) -> str:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        name, n = f"voicecli-{stamp}.wav", 1
        while (directory / name).exists() or directory / name in self.files:
            n += 1
            name = f"voicecli-{stamp}-{n}.wav"
        return name

    def begin(self, options: SessionOptions, directory: Path) -> Path:
        """Record into ``directory`` from the session's start (raises OSError when it cannot)."""
        recorder = self._recorder = self._factory(directory, name=self._name(directory))
        options.recorder = recorder
        path = Path(recorder.path)
        self.files.append(path)
        return path

    def start(self, session: SessionSurface, directory: Path) -> str:
        """Record a live session into ``directory``; one that was running stops first."""
        directory.mkdir(parents=True, exist_ok=True)
        stopped = self._stop(session.options)
        path = self.begin(session.options, directory)
        playback = session.playback
        if playback is not None and self._recorder is not None:
            self._recorder.attach_playback(playback)
        if stopped is not None:
            return f"recording stopped: {stopped}; recording to {path}"
        return f"recording to {path}"

    def stop(self, session: SessionSurface) -> str:
        """Stop the recording in progress (``/record off``)."""
        stopped = self._stop(session.options)
        return f"recording stopped: {stopped}" if stopped is not None else "not recording"

    def _stop(self, options: SessionOptions) -> Path | None:
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return None
        if options.recorder is recorder:
            options.recorder = None
        recorder.close()
        return Path(recorder.path)

    def close(self) -> None:
        """Finish the file in progress (at exit)."""
        if self._recorder is not None:
            self._recorder.close()
