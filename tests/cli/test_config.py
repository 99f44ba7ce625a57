from __future__ import annotations

from pathlib import Path

import pytest

from voicecli.cli.config import api_key, parse_vars, resolve
from voicecli.errors import ConfigError, UsageError

CONFIG = """
default_profile = "el"

[profiles.el]
dialect = "elevenlabs"
agent = "agent_el"
key_env = "MY_EL_KEY"
[profiles.el.variables]
name = "Ada"

[profiles.smallest]
url = "https://api.smallest.ai"
agent = "a1"
sample_rate = 16000
"""


def write(tmp_path: Path, text: str = CONFIG) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return str(path)


def resolve_with(cfg: str | None, **kw):
    args = dict(profile=None, url=None, dialect=None, agent=None, sample_rate=None, variables={},
                config_file=cfg)
    args.update(kw)
    return resolve(**args)


def test_default_profile_and_flag_precedence(tmp_path: Path) -> None:
    cfg = write(tmp_path)
    target = resolve_with(cfg)
    assert (target.dialect, target.agent_id, target.key_env) == ("elevenlabs", "agent_el", "MY_EL_KEY")
    assert target.url == "https://api.elevenlabs.io"
    target = resolve_with(cfg, agent="flag_agent", variables={"name": "Bob", "x": 1})
    assert target.agent_id == "flag_agent"
    assert target.variables == {"name": "Bob", "x": 1}


def test_dialect_inferred_from_host(tmp_path: Path) -> None:
    target = resolve_with(write(tmp_path), profile="smallest")
    assert (target.dialect, target.sample_rate, target.key_env) == ("atoms", 16000, "SMALLEST_API_KEY")


def test_agent_alone_is_the_atoms_quick_start(tmp_path: Path) -> None:
    target = resolve_with(str(write(tmp_path, "")), agent="abc")
    assert (target.dialect, target.url, target.key_env) == ("atoms", "https://api.smallest.ai", "SMALLEST_API_KEY")


def test_nothing_configured_means_the_local_agent(tmp_path: Path) -> None:
    target = resolve_with(str(write(tmp_path, "")))
    assert target.local and target.dialect == "atoms"


def test_unknown_profile_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no profile 'nope'"):
        resolve_with(write(tmp_path), profile="nope")
    with pytest.raises(ConfigError, match="invalid TOML"):
        resolve_with(write(tmp_path, "[profiles\n"))
    with pytest.raises(ConfigError, match=r"profiles\.x\.api_key: unknown key: API keys never go in the config file"):
        resolve_with(write(tmp_path, '[profiles.x]\napi_key = "sk_no"\n'), profile="x")


def test_key_comes_from_the_named_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = resolve_with(write(tmp_path))
    monkeypatch.delenv("MY_EL_KEY", raising=False)
    with pytest.raises(ConfigError, match="set the environment variable MY_EL_KEY"):
        api_key(target, required=True)
    monkeypatch.setenv("MY_EL_KEY", "xi_secret_value")
    key = api_key(target, required=True)
    assert key is not None and key.reveal() == "xi_secret_value"


def test_parse_vars() -> None:
    assert parse_vars(["a=1", "b=x", "c=true", "d=1.5"]) == {"a": 1, "b": "x", "c": True, "d": 1.5}
    with pytest.raises(UsageError):
        parse_vars(["novalue"])


def test_config_example_is_valid_and_every_profile_connects_somewhere() -> None:
    from voicecli.protocol.registry import adapter_class
    from voicecli.secrets import Secret

    example = str(Path(__file__).resolve().parents[2] / "config.example.toml")
    data = __import__("voicecli.cli.config", fromlist=["load_config"]).load_config(Path(example), True)
    assert {"atoms", "elevenlabs", "token-pcm", "voiceagent", "perfvoice", "local"} <= set(data["profiles"])
    for name in data["profiles"]:
        target = resolve_with(example, profile=name)
        adapter = adapter_class(target.dialect)(target.dialect_config(api_key=Secret("sk_example_1")))
        if adapter.prepare() is None:  # token dialects ask an HTTP endpoint first
            assert adapter.handshake().url.startswith(("ws://", "wss://")), name
