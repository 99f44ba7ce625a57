"""``voicecli profiles``: the config file's profiles as a table (or JSON): name, dialect,
URL, agent and whether the profile's key is set. A key is never printed."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from voicecli.cli.config import api_key, config_path, load_config, resolve
from voicecli.cli.output import print_json, print_notice
from voicecli.secrets import redact


def profile_rows(config: str | None = None) -> list[dict[str, Any]]:
    """One row per profile, in file order; the default profile is marked."""
    path = config_path(config)
    data = load_config(path, required=config is not None)
    default = data.get("default_profile")
    rows = []
    for name in data.get("profiles", {}):
        target = resolve(profile=name, url=None, dialect=None, agent=None, sample_rate=None, variables={},
                         config_file=config)
        rows.append({"name": name, "default": name == default, "dialect": target.dialect,
                     "url": redact(target.url) if target.url else None, "agent": target.agent_id,
                     "key_env": target.key_env, "key_set": api_key(target, required=False) is not None,
                     "description": data["profiles"][name].get("description")})
    return rows


def table(rows: list[dict[str, Any]]) -> list[str]:
    """Aligned columns: NAME (``*`` default), DIALECT, URL, AGENT, KEY."""
    head = ["NAME", "DIALECT", "URL", "AGENT", "KEY"]
    body = [[row["name"] + (" *" if row["default"] else ""), row["dialect"], row["url"] or "(local agent)",
             row["agent"] or "-", f"{row['key_env']} {'set' if row['key_set'] else 'not set'}"]
            for row in rows]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in [head, *body]]


def profiles(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    config: Annotated[str | None, typer.Option("--config", metavar="PATH", help="Config file.")] = None,
) -> None:
    """List the config file's profiles (* marks the default) and whether each key is set."""
    rows = profile_rows(config)
    if json_out:
        print_json(rows)
        return
    if not rows:
        print_notice(f"no profiles in {config_path(config)}; voicecli config init writes an example")
        return
    for line in table(rows):
        print(redact(line))
