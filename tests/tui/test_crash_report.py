"""The app's crash report (``QuietCrashApp`` overrides Textual's private ``_fatal_error``):
the traceback is shown, the frames' local variables are not. Run at textual's floor by
``make test-min``, so an upgrade that renames the private hook fails here."""

from __future__ import annotations

import contextlib

import pytest
from textual.app import App

from voicecli.tui.base import QuietCrashApp

SECRET = "sk_live_SECRET_IN_A_LOCAL_9931"


class Crashing(QuietCrashApp[None]):
    def on_mount(self) -> None:
        api_key = SECRET  # a local that the default crash report would print
        raise RuntimeError(f"the handler failed ({len(api_key)})")


class CrashingDefault(App[None]):
    on_mount = Crashing.on_mount


async def crash_report(app: App[None], capfd: pytest.CaptureFixture[str]) -> str:
    """What the app prints when it exits after the crash (Textual prints it on stderr)."""
    capfd.readouterr()
    with contextlib.suppress(RuntimeError):  # newer Textual re-raises from run_test
        async with app.run_test() as pilot:
            await pilot.pause()
    out, err = capfd.readouterr()
    return out + err


async def test_the_crash_report_has_the_traceback_and_no_locals(capfd: pytest.CaptureFixture[str]) -> None:
    report = await crash_report(Crashing(), capfd)
    assert "RuntimeError" in report and "the handler failed (30)" in report
    assert SECRET not in report


async def test_textual_alone_would_print_the_locals(capfd: pytest.CaptureFixture[str]) -> None:
    """What the override is for (and proof the check above can fail)."""
    report = await crash_report(CrashingDefault(), capfd)
    assert "the handler failed (30)" in report
    assert SECRET in report
