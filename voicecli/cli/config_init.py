"""``voicecli config init``: write the commented example config (config.example.toml, shipped
in the package) to the user config path, never over an existing file without ``--force``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from voicecli.cli.config import config_path
from voicecli.cli.output import print_notice
from voicecli.errors import ConfigError, UsageError

TEMPLATE = "config.example.toml"


def template() -> str:
    return resources.files("voicecli.cli").joinpath(TEMPLATE).read_text(encoding="utf-8")


def write_config(path: Path, force: bool = False) -> Path:
    """Write the example config to ``path``; an existing file is kept unless ``force``."""
    if path.is_dir():
        raise UsageError(f"{path} is a directory; give a file name")
    if path.exists() and not force:
        raise UsageError(f"{path} exists; --force overwrites it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template(), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def config_init(
    config: Annotated[str | None, typer.Option("--config", metavar="PATH",
                                               help="Where to write (default: VOICECLI_CONFIG, else the "
                                                    "user config directory).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented config file with example profiles (edit it, then: voicecli profiles)."""
    path = write_config(config_path(config), force)
    print_notice(f"wrote {path}")
    print_notice("edit its profiles, then list them with: voicecli profiles")
