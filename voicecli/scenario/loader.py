"""Reading scenario files: YAML in, a validated :class:`~voicecli.scenario.model.Scenario`
out, or a one-line :class:`ScenarioError` naming the file, the line and the field.

Paths may be files or folders (every ``*.yaml``/``*.yml`` below, in name order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from voicecli.errors import UsageError
from voicecli.scenario.model import Scenario

SUFFIXES = (".yaml", ".yml")
Loc = tuple[str | int, ...]


class ScenarioError(UsageError):
    """A scenario file that cannot be read or is not valid (exit 2)."""


@dataclass(frozen=True)
class ScenarioFile:
    path: Path
    scenario: Scenario

    def resolve(self, relative: str) -> Path:
        """A path written in the scenario, relative to its file."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.path.parent / path


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders as their scenario files; a path that is neither is an error."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            if not inside:
                raise ScenarioError(f"{path}: no scenario files (*.yaml, *.yml) in this folder")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise ScenarioError(f"{path}: no such file or folder")
    return found


def load(path: Path) -> ScenarioFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return ScenarioFile(path, parse(text, str(path)))


def parse(text: str, name: str) -> Scenario:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{name}{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{name}:1: a scenario is a mapping with version, name and turns")
    lines: dict[Loc, int] = {}
    _lines(node, (), lines)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc: Loc = tuple(first["loc"])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        field = ".".join(str(part) for part in loc) or "(top)"
        raise ScenarioError(f"{name}:{_line(lines, loc)}: {field}: {first['msg']}{more}") from None


def _lines(node: Any, loc: Loc, out: dict[Loc, int]) -> None:
    """The line of every value in the YAML node tree, by its path."""
    if node is None:
        return
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*loc, str(key.value))] = key.start_mark.line + 1
            _lines(value, (*loc, str(key.value)), out)
            out[(*loc, str(key.value))] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*loc, index), out)


def _line(lines: dict[Loc, int], loc: Loc) -> int:
    """The line of the deepest part of ``loc`` the file has (a missing field: its parent)."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1
