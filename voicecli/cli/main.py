"""The ``voicecli`` command: the Typer app, errors mapped in one place.

The commands' signatures live in :mod:`voicecli.cli.commands`, which imports nothing but
Typer; each command imports its work (numpy, websockets, the session, Textual) when it runs,
so ``voicecli --help`` and ``voicecli COMMAND --help`` stay quick. With ``smoke --json``, every
failure, a bad option or an internal error too, is one JSON object on stdout with the same
fields as a report.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import asdict
from typing import Annotated

import typer

from voicecli import __version__
from voicecli.cli import commands, help_format, tool_commands
from voicecli.cli.output import print_error, print_json
from voicecli.errors import EXIT_INTERRUPTED, VoicecliError

app = typer.Typer(
    name="voicecli",
    help="Talk to hosted realtime voice agents from your terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # tracebacks with locals would print secrets
    rich_markup_mode=None,  # plain help: drawing panels with Rich costs more than the rest of start-up
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"voicecli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Talk to hosted realtime voice agents from your terminal."""


help_format.install()

app.command("smoke")(commands.smoke)
app.command("talk")(commands.talk)
app.command("serve")(commands.serve)
app.command("devices")(commands.devices)
app.command("test")(tool_commands.test)
app.command("replay")(tool_commands.replay)
app.command("load")(tool_commands.load)
app.command("doctor")(tool_commands.doctor)
app.command("profiles")(tool_commands.profiles)
config_app = typer.Typer(help="Manage the config file.", no_args_is_help=True)
config_app.command("init")(tool_commands.config_init)
app.add_typer(config_app, name="config")


def _wants_json(argv: list[str] | None = None) -> bool:
    """``smoke --json``: every failure, a bad option too, is one JSON object on stdout."""
    args = sys.argv[1:] if argv is None else argv
    return "--json" in args and "smoke" in args


def _fail(message: str, code: int) -> None:
    """Exit with ``code`` after one JSON object on stdout (``smoke --json``) and the error on stderr."""
    if _wants_json():
        from voicecli.cli.smoke_report import SmokeReport

        report = SmokeReport(dialect="", ok=False, error=message or "bad usage", exit_code=code)
        print_json(asdict(report))
    sys.exit(code)


def main() -> None:
    """Console entry point: known errors become one line and an exit code."""
    try:
        rc = app(prog_name="voicecli", standalone_mode=False)
    except VoicecliError as exc:
        print_error(str(exc))
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        print_error("interrupted")
        _fail("interrupted", EXIT_INTERRUPTED)
    except typer.Abort:
        print_error("aborted")
        _fail("aborted", EXIT_INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - nothing reaches the user as a traceback
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):  # a usage error from the option parser
            show()
            formatter = getattr(exc, "format_message", None)
            message = str(formatter() if callable(formatter) else exc)
            _fail(message.splitlines()[0] if message else "", code)
        logging.getLogger("voicecli").debug("internal error", exc_info=True)
        message = f"internal error: {exc.__class__.__name__}: {exc}"
        print_error(f"{message} (VOICECLI_LOG=debug shows details)")
        _fail(message, 1)
    sys.exit(rc if isinstance(rc, int) else 0)
