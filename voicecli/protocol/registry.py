"""Dialect names → adapter classes, and dialect inference from well-known hosts."""

from __future__ import annotations

import importlib

from voicecli.errors import UsageError
from voicecli.protocol.base import Adapter, host_of

# name -> "module:Class"; modules are imported on first use
DIALECTS: dict[str, str] = {
    "atoms": "voicecli.protocol.atoms:AtomsAdapter",
    "elevenlabs": "voicecli.protocol.elevenlabs:ElevenLabsAdapter",
    "token-pcm": "voicecli.protocol.token_pcm:TokenPcmAdapter",
    "voiceagent": "voicecli.protocol.voiceagent:VoiceAgentAdapter",
    "perfvoice": "voicecli.protocol.perfvoice:PerfVoiceAdapter",
}

DEFAULT_URLS: dict[str, str] = {
    "atoms": "https://api.smallest.ai",
    "elevenlabs": "https://api.elevenlabs.io",
    "perfvoice": "https://api.withperf.pro",
}

DEFAULT_KEY_ENV: dict[str, str] = {
    "atoms": "SMALLEST_API_KEY",
    "elevenlabs": "ELEVENLABS_API_KEY",
    "perfvoice": "PERFVOICE_API_KEY",
    "token-pcm": "VOICECLI_API_KEY",
    "voiceagent": "VOICECLI_API_KEY",
}

_HOSTS: dict[str, str] = {
    "api.smallest.ai": "atoms",
    "api.elevenlabs.io": "elevenlabs",
    "api.us.elevenlabs.io": "elevenlabs",
    "api.eu.residency.elevenlabs.io": "elevenlabs",
    "api.in.residency.elevenlabs.io": "elevenlabs",
    "api.withperf.pro": "perfvoice",
}


def adapter_class(name: str) -> type[Adapter]:
    target = DIALECTS.get(name)
    if target is None:
        raise UsageError(f"unknown dialect {name!r}; choose one of {', '.join(DIALECTS)}")
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:  # pragma: no cover - every dialect ships
        raise UsageError(f"dialect {name!r} is not available in this build") from exc
    cls: type[Adapter] = getattr(module, cls_name)
    return cls


def infer_dialect(url: str) -> str | None:
    """The dialect of a well-known provider host, or None."""
    host = host_of(url)
    if host in _HOSTS:
        return _HOSTS[host]
    for known, name in _HOSTS.items():
        if host.endswith("." + known.split(".", 1)[1]) and name == "elevenlabs":
            return name
    return None
