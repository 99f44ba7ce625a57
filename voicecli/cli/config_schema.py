"""What the config file may hold, checked with pydantic; every bad field is reported.

One line per bad field, naming the file and the key's path and what the key must hold:
``config.toml: profiles.x.headers: expected a table of strings (header name = "value"), got a
string``. A value is never echoed (a header value or a misplaced key is a secret more often
than not); only its TOML type is named. An unknown key in a profile is refused, and an API
key there is refused with where keys come from instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, PositiveInt, ValidationError, field_validator

from voicecli.errors import ConfigError, UsageError
from voicecli.protocol.base import check_url
from voicecli.protocol.registry import DIALECTS

_TABLE_OF_STRINGS = 'a table of strings (header name = "value")'


class Profile(BaseModel):
    """One ``[profiles.NAME]`` table."""

    model_config = ConfigDict(extra="forbid", strict=True)

    dialect: str | None = None
    url: str | None = None
    agent: str | None = None
    key_env: str | None = None
    sample_rate: PositiveInt | None = None
    mode: str | None = None
    variables: dict[str, Any] = {}
    headers: dict[str, str] = {}
    options: dict[str, Any] = {}
    description: str | None = None

    @field_validator("dialect")
    @classmethod
    def _known_dialect(cls, value: str | None) -> str | None:
        if value is not None and value not in DIALECTS:
            raise ValueError(f"one of {', '.join(DIALECTS)}, got {value!r}")
        return value

    @field_validator("url")
    @classmethod
    def _usable_url(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_url(value)
            except UsageError as exc:
                raise ValueError(str(exc)) from None
        return value


class ConfigFile(BaseModel):
    """The whole file; keys other than these two are left to future versions."""

    model_config = ConfigDict(extra="ignore", strict=True)

    default_profile: str | None = None
    profiles: dict[str, Profile] = {}


PROFILE_KEYS = frozenset(Profile.model_fields)

# what a key must hold, when the type alone would say it badly
_EXPECTED = {
    "profiles": "a table of profiles ([profiles.NAME] tables)",
    "sample_rate": "a positive whole number",
    "headers": _TABLE_OF_STRINGS,
    "variables": "a table", "options": "a table",
}
_SECRET_NAMES = ("key", "token", "secret", "password")


def validate(path: Path, data: Mapping[str, Any]) -> ConfigFile:
    """``data`` (the parsed TOML) as a :class:`ConfigFile`, or a ConfigError with one line
    per bad field (exit 3)."""
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        problems = _problems(path, data, exc)
    raise ConfigError("\n".join(problems))


def _problems(path: Path, data: Mapping[str, Any], exc: ValidationError) -> list[str]:
    seen: dict[tuple[str, ...], str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(str(part) for part in error["loc"])
        # one problem per field: a wrong header value is the headers table's problem
        field = loc[:3] if loc[:1] == ("profiles",) else loc[:1]
        if field not in seen:
            seen[field] = _describe(field, error, _value_at(data, field))
    ordered = sorted(seen, key=lambda field: _position(data, field))  # as the file has them
    return [f"{path}: {'.'.join(field)}: {seen[field]}" for field in ordered]


def _position(data: Mapping[str, Any], loc: tuple[str, ...]) -> list[int]:
    where: list[int] = []
    value: Any = data
    for part in loc:
        keys = list(value) if isinstance(value, Mapping) else []
        where.append(keys.index(part) if part in keys else len(keys))
        value = value.get(part) if isinstance(value, Mapping) else None
    return where


def _describe(field: tuple[str, ...], error: Any, value: Any) -> str:
    key = field[-1]
    kind = error["type"]
    if kind == "extra_forbidden":
        if any(word in key.lower() for word in _SECRET_NAMES) and key != "key_env":
            return ("unknown key: API keys never go in the config file; name the environment "
                    "variable that holds one with key_env")
        return f"unknown key (a profile takes {', '.join(sorted(PROFILE_KEYS))})"
    if kind == "value_error":  # our validators: the message says what was expected
        reason = str(error.get("ctx", {}).get("error", error["msg"]))
        return f"expected {reason}" if key == "dialect" else reason
    if len(field) == 2 and field[0] == "profiles":
        return f"expected a table, got {_toml_type(value)}"
    expected = _EXPECTED.get(key, "a string")
    return f"expected {expected}, got {_toml_type(value)}"


def _value_at(data: Mapping[str, Any], loc: tuple[str, ...]) -> Any:
    value: Any = data
    for part in loc:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer" if value > 0 else "an integer below 1"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        bad = [k for k, v in value.items() if not isinstance(v, str)]
        return f"a table whose {bad[0]} is {_toml_type(value[bad[0]])}" if bad else "a table"
    return "a date or time"
