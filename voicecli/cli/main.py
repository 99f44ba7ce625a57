"""The ``voicecli`` command: Typer app, one module per command, errors mapped in one place."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from voicecli import __version__
from voicecli.cli.output import print_error, print_json
from voicecli.errors import EXIT_INTERRUPTED, VoicecliError

app = typer.Typer(
    name="voicecli",
    help="Talk to hosted realtime voice agents from your terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # tracebacks with locals would print secrets
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


_FUNCTIONS = {"test": "scenario_test", "load": "load_command"}  # commands whose function has another name


def _register() -> None:
    from voicecli.cli import help_format
    from voicecli.cli.smoke import smoke

    help_format.install()

    app.command("smoke")(smoke)
    for module, name in (("voicecli.cli.talk", "talk"), ("voicecli.cli.commands", "serve"),
                         ("voicecli.cli.commands", "devices"), ("voicecli.cli.scenario", "test"),
                         ("voicecli.cli.scenario", "replay"), ("voicecli.cli.doctor", "doctor"),
                         ("voicecli.cli.load", "load")):
        try:
            mod = __import__(module, fromlist=[name])
        except ImportError:
            continue
        command: Callable[..., Any] | None = getattr(mod, _FUNCTIONS.get(name, name), None)
        if command is not None:
            app.command(name)(command)
    from voicecli.cli.config_init import config_init
    from voicecli.cli.profiles import profiles

    app.command("profiles")(profiles)
    config_app = typer.Typer(help="Manage the config file.", no_args_is_help=True)
    config_app.command("init")(config_init)
    app.add_typer(config_app, name="config")


_register()


def _wants_json(argv: list[str] | None = None) -> bool:
    """``smoke --json``: every failure, a bad option too, is one JSON object on stdout."""
    args = sys.argv[1:] if argv is None else argv
    return "--json" in args and "smoke" in args


def _json_failure(exc: Exception, code: int) -> None:
    formatter = getattr(exc, "format_message", None)
    message = formatter() if callable(formatter) else str(exc)
    print_json({"ok": False, "error": str(message).splitlines()[0] if message else "bad usage",
                "exit_code": code})


def main() -> None:
    """Console entry point: known errors become one line and an exit code."""
    try:
        rc = app(standalone_mode=False)
    except VoicecliError as exc:
        if _wants_json():
            _json_failure(exc, exc.exit_code)
        print_error(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print_error("aborted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - nothing reaches the user as a traceback
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):  # a usage error from the option parser
            if _wants_json():
                _json_failure(exc, code)
            show()
            sys.exit(code)
        logging.getLogger("voicecli").debug("internal error", exc_info=True)
        print_error(f"internal error: {exc.__class__.__name__}: {exc} (VOICECLI_LOG=debug shows details)")
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)
