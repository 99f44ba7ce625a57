"""Profiles from the config file, resolved with flags and the environment.

Precedence: command-line flags > environment variables > the chosen profile > defaults.
API keys come only from environment variables (the profile names which one) or, when
the optional ``keyring`` package is installed, from the system keyring.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from platformdirs import user_config_path

from voicecli.cli.config_schema import validate
from voicecli.errors import ConfigError, UsageError
from voicecli.protocol.base import DialectConfig, check_url
from voicecli.protocol.registry import DEFAULT_KEY_ENV, DEFAULT_URLS, DIALECTS, infer_dialect
from voicecli.secrets import Secret, register


def config_path(explicit: str | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("VOICECLI_CONFIG")
    if env:
        return Path(env).expanduser()
    return user_config_path("voicecli") / "config.toml"


def load_config(path: Path, required: bool = False) -> dict[str, Any]:
    """The config file as a dict, every profile checked (:mod:`voicecli.cli.config_schema`):
    a ConfigError (exit 3) names the file, and the key and reason of every bad field."""
    if not path.exists():
        if required:
            raise ConfigError(f"config file not found: {path}")
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") from None
    validate(path, data)
    return data


@dataclass
class Target:
    """Where to connect, fully resolved. ``local`` means: start the embedded agent."""

    dialect: str
    url: str | None
    agent_id: str | None
    key_env: str
    sample_rate: int | None = None
    mode: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    profile: str | None = None

    @property
    def local(self) -> bool:
        return self.url is None

    def dialect_config(self, url: str | None = None, api_key: Secret | None = None) -> DialectConfig:
        target_url = url or self.url
        if target_url is None:
            raise UsageError("no URL to connect to")
        return DialectConfig(url=target_url, agent_id=self.agent_id, api_key=api_key,
                             sample_rate=self.sample_rate, mode=self.mode, variables=self.variables,
                             headers=self.headers, options=self.options)


def parse_vars(pairs: list[str]) -> dict[str, Any]:
    """``--var k=v`` values; numbers and true/false keep their type."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--var takes KEY=VALUE, got {pair!r}")
        out[key] = _scalar(value)
    return out


def _scalar(value: str) -> Any:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def resolve(*, profile: str | None, url: str | None, dialect: str | None, agent: str | None,
            sample_rate: int | None, variables: Mapping[str, Any], config_file: str | None,
            default_to_atoms_with_agent: bool = True) -> Target:
    """Flags (already merged with their env vars by Typer) over the profile over defaults."""
    path = config_path(config_file)
    data = load_config(path, required=config_file is not None)
    profiles: dict[str, Any] = data.get("profiles", {})
    profile = profile or data.get("default_profile")
    chosen: dict[str, Any] = {}
    if profile:
        if profile not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigError(f"no profile {profile!r} in {path} (profiles: {known})")
        chosen = profiles[profile]
    if url is not None:
        check_url(url)
    url = url or chosen.get("url")
    dialect = dialect or chosen.get("dialect")
    agent = agent or chosen.get("agent")
    if dialect is None and url is not None:
        dialect = infer_dialect(url)
        if dialect is None:
            dialect = "atoms"
    if url is None and dialect is None and agent is not None and default_to_atoms_with_agent:
        dialect = "atoms"  # `voicecli talk --agent ID` is the Atoms quick start
        url = DEFAULT_URLS["atoms"]
    if url is None and dialect in DEFAULT_URLS and agent is not None:
        url = DEFAULT_URLS[dialect]
    dialect = dialect or "atoms"
    if dialect not in DIALECTS:
        raise UsageError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    merged_vars = dict(chosen.get("variables", {}))
    merged_vars.update(variables)
    headers = {str(k): str(v) for k, v in chosen.get("headers", {}).items()}
    _register_secrets(url, headers)
    return Target(
        dialect=dialect, url=url, agent_id=agent,
        key_env=str(chosen.get("key_env") or DEFAULT_KEY_ENV.get(dialect, "VOICECLI_API_KEY")),
        sample_rate=sample_rate or chosen.get("sample_rate"), mode=chosen.get("mode"),
        variables=merged_vars, headers=headers,
        options=dict(chosen.get("options", {})), profile=profile)


def _register_secrets(url: str | None, headers: Mapping[str, str]) -> None:
    """Header values (tokens, more often than not) and a URL's password never print."""
    for value in headers.values():
        register(value)
    if url:
        password = urlsplit(url).password
        if password:
            register(password)


def api_key(target: Target, required: bool) -> Secret | None:
    """The key from the profile's environment variable, else the keyring, else None."""
    value = os.environ.get(target.key_env)
    if not value:
        value = _keyring_value(target)
    if value:
        return Secret(value)
    if required:
        raise ConfigError(f"no API key: set the environment variable {target.key_env}")
    return None


def _keyring_value(target: Target) -> str | None:
    try:
        import keyring  # optional
    except ImportError:
        return None
    try:
        value = keyring.get_password("voicecli", target.profile or target.dialect)
    except Exception:  # noqa: BLE001 - a broken keyring backend means "no key there"
        return None
    return value if isinstance(value, str) else None


def key_required(target: Target) -> bool:
    """Dialects that cannot connect without a key (public ElevenLabs agents and
    VoiceAgent servers can)."""
    return target.dialect in ("atoms", "token-pcm", "perfvoice")
