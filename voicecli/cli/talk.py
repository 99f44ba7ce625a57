"""``voicecli talk``: a conversation in a terminal UI.

With no provider configured it talks to the embedded local agent (offline). The command's
options are in :mod:`voicecli.cli.commands`; Textual is imported when the command runs, so
the other commands never load it. A connection lost after
the session started is reconnected (``--reconnect N`` tries, the first after
``--reconnect-delay S``, growing with jitter); ``/reconnect`` tries again after that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from voicecli.cli import checks
from voicecli.cli.common import endpoint, setup_logging
from voicecli.cli.config import Target, api_key, key_required, parse_vars, resolve
from voicecli.cli.output import print_error, print_notice
from voicecli.errors import UsageError

if TYPE_CHECKING:
    from voicecli.audio.base import AudioBackend
    from voicecli.session.options import SessionOptions
    from voicecli.session.reconnect import ReconnectSettings
    from voicecli.tui.binding import LiveSession, Recorder, SessionLike


def transcript_file(directory: Path | None, dialect: str, now: float | None = None) -> Path:
    """``<data dir>/transcripts/<timestamp>-<dialect>.jsonl`` (XDG_DATA_HOME is honoured)."""
    if directory is None:
        from platformdirs import user_data_path

        directory = user_data_path("voicecli") / "transcripts"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return directory.expanduser() / f"{stamp}-{dialect}.jsonl"


def _device(spec: str | None) -> str | int | None:
    if spec is None:
        return None
    return int(spec) if spec.isdigit() else spec


def audio_backend(no_audio: bool, input_device: str | None, output_device: str | None) -> AudioBackend:
    """The sound card backend, or a text-only one that says why."""
    from voicecli.audio.base import NullBackend

    if no_audio:
        return NullBackend("text only (--no-audio)")
    if input_device is not None or output_device is not None:
        # a device the user named must exist: say so now, not after the app has started
        from voicecli.audio.devices import find_device

        for spec, direction in ((input_device, "input"), (output_device, "output")):
            if spec is not None:
                find_device(_device(spec), direction)  # type: ignore[arg-type]
    try:
        from voicecli.audio.backends import SoundDeviceBackend

        backend: AudioBackend = SoundDeviceBackend(_device(input_device), _device(output_device))
    except Exception as exc:  # noqa: BLE001 - no audio stack: go on text-only, say why
        return NullBackend(f"audio unavailable ({exc.__class__.__name__}: {exc}); text only")
    return backend


# the provider mode that asks for a text-only session, where the provider has one: Atoms'
# chat mode, ElevenLabs' ``text_only`` conversation override; the others always speak
TEXT_MODES = {"atoms": ("chat", ("chat",)), "elevenlabs": ("text", ("text", "chat"))}


def text_only_session(target: Target, backend: AudioBackend) -> tuple[Target, AudioBackend]:
    """A session with no audio asks the provider for text only (whole replies, unpaced,
    never cut by the next message); a text mode the profile names needs no devices."""
    from voicecli.audio.base import NullBackend

    ask, modes = TEXT_MODES.get(target.dialect, (None, ()))
    if target.mode is not None and target.mode in modes and not isinstance(backend, NullBackend):
        return target, NullBackend(f"text only ({target.dialect} mode {target.mode})")
    if ask is not None and target.mode is None and isinstance(backend, NullBackend):
        return dataclasses.replace(target, mode=ask), backend
    return target, backend


def _text_only_reason(backend: AudioBackend) -> str | None:
    from voicecli.audio.base import NullBackend

    return (backend.notice or "no audio") if isinstance(backend, NullBackend) else None


def recorder_hook() -> Recorder | None:
    """Start recording a live session into a directory, when a recorder exists."""
    try:
        from voicecli.audio import recorder as recorder_module  # type: ignore[attr-defined]
    except ImportError:
        return None
    factory: Callable[..., Any] | None = getattr(recorder_module, "Recorder", None)
    if factory is None:
        return None

    def start(session: SessionLike, directory: Path) -> str:
        options = getattr(session, "options", None)
        if options is None:
            return "recording is not available for this session"
        recorder = factory(directory)
        options.recorder = recorder
        playback = getattr(session, "playback", None)
        attach = getattr(recorder, "attach_playback", None)
        if playback is not None and callable(attach):
            attach(playback)
        return f"recording to {directory}"

    return start


def reconnect_settings(attempts: int, delay: float) -> ReconnectSettings:
    """How talk reconnects: ``attempts`` tries (0: only ``/reconnect``), the first after
    ``delay`` seconds; after giving up, ``/reconnect`` tries again."""
    from voicecli.session.reconnect import ReconnectSettings, user_backoff

    try:
        return ReconnectSettings(backoff=user_backoff(attempts, delay), hold=True)
    except ValueError as exc:
        raise UsageError(f"--reconnect/--reconnect-delay: {exc}") from None


def session_factory(target: Target, backend: AudioBackend,
                    options: SessionOptions) -> Callable[[], contextlib.AbstractAsyncContextManager[LiveSession]]:
    from voicecli.session.worker import Session
    from voicecli.tui.binding import LiveSession

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[LiveSession]:
        try:
            async with endpoint(target) as ep:
                yield LiveSession(Session(ep.adapter, backend, options), ep.label, ep.local, target.agent_id)
        finally:
            with contextlib.suppress(Exception):
                await backend.close()

    return factory


def talk_command(
    *, agent: str | None, profile: str | None, url: str | None, dialect: str | None, var: list[str] | None,
    sample_rate: int | None, ptt: str, input_device: str | None, output_device: str | None, no_audio: bool,
    record: Path | None, half_duplex: bool, allow_insecure: bool, config: str | None, transcript_dir: Path | None,
    reconnect: int, reconnect_delay: float,
) -> None:
    """The work of ``voicecli talk`` (its options are in :mod:`voicecli.cli.commands`)."""
    setup_logging()
    from voicecli.session.options import SessionOptions
    from voicecli.tui.ptt import PttMode

    try:
        mode = PttMode.parse(ptt)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    checks.sample_rate(sample_rate)
    redial = reconnect_settings(reconnect, reconnect_delay)
    target = resolve(profile=profile, url=url, dialect=dialect, agent=agent, sample_rate=sample_rate,
                     variables=parse_vars(var or []), config_file=config)
    if not target.local:
        api_key(target, required=key_required(target))  # a missing key fails here, in one line
    target, backend = text_only_session(target, audio_backend(no_audio, input_device, output_device))
    hook = recorder_hook()
    notices: list[str] = []
    options = SessionOptions(allow_insecure=allow_insecure, half_duplex=half_duplex,
                             reconnect=redial)
    if record is not None:
        try:
            options.recorder = _start_recorder(record) if hook is not None else None
        except Exception as exc:  # noqa: BLE001 - say so in the app and go on without recording
            notices.append(f"recording is not available: {exc}")
        else:
            if options.recorder is None:
                notices.append("recording is not available")
    # with --record, the transcript goes beside the recording unless told otherwise
    path = transcript_file(transcript_dir or record, target.dialect)

    from voicecli.tui import TalkSettings, create_app

    settings = TalkSettings(dialect=target.dialect, agent=target.agent_id, ptt=mode, transcript_path=path,
                            recorder=hook, notices=notices, text_only=_text_only_reason(backend))
    app = create_app(session_factory(target, backend, options), settings)
    app.run()
    code = app.exit_code
    if app.transcript_path is not None:
        print_notice(f"transcript saved to {app.transcript_path}")
    if app.failure is not None and app.failure.error:
        print_error(app.failure.error)
    elif app.closed is not None and app.closed.error:
        print_error(app.closed.error)
    if code:
        raise typer.Exit(code)


def _start_recorder(directory: Path) -> Any:
    from voicecli.audio import recorder as recorder_module  # type: ignore[attr-defined]

    return recorder_module.Recorder(directory)
