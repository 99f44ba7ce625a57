"""Shared wiring for commands that hold a conversation (talk, smoke)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

from voicecli.cli.config import Target, api_key, key_required
from voicecli.protocol.base import Adapter
from voicecli.protocol.registry import adapter_class
from voicecli.secrets import RedactingFilter, Secret

LOCAL_AGENT_ID = "local"


@dataclass
class Endpoint:
    """A resolved connection: the adapter to use and a label for the status bar."""

    adapter: Adapter
    label: str
    local: bool


@contextlib.asynccontextmanager
async def endpoint(target: Target, *, greeting: str | None = None,
                   faults: bool = False) -> AsyncIterator[Endpoint]:
    """The adapter for ``target``; for a local target, an in-process local agent on a
    free loopback port that lives as long as the context."""
    cls = adapter_class(target.dialect)
    if not target.local:
        key = api_key(target, required=key_required(target))
        yield Endpoint(cls(target.dialect_config(api_key=key)), target.url or "", local=False)
        return
    from voicecli.agent.config import AgentConfig
    from voicecli.agent.server import LocalAgent

    config = AgentConfig(api_key=None, greeting=greeting, allow_faults=faults)
    async with LocalAgent(config) as agent:
        if target.agent_id is None:
            target.agent_id = LOCAL_AGENT_ID
        # the embedded agent checks no key; dialects that always send one get a placeholder
        placeholder = Secret("sk_local_embedded")
        yield Endpoint(cls(target.dialect_config(url=agent.url, api_key=placeholder)),
                       "local agent, offline", local=True)


def setup_logging(level: str | None = None) -> None:
    """Logs go to stderr only when asked (VOICECLI_LOG=debug), always redacted."""
    name = (level or os.environ.get("VOICECLI_LOG") or "").upper()
    root = logging.getLogger("voicecli")
    root.propagate = False
    if not root.handlers:
        handler: logging.Handler = logging.StreamHandler() if name else logging.NullHandler()
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root.addHandler(handler)
    root.setLevel(getattr(logging, name, logging.WARNING) if name else logging.WARNING)
