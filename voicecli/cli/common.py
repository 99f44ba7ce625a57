"""Shared wiring for commands that hold a conversation (talk, smoke)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from voicecli.cli import checks
from voicecli.cli.config import Target, api_key, key_required
from voicecli.errors import UsageError
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
async def endpoint(target: Target, *, greeting: str | None = None, faults: bool = False,
                   speech: bool = True, own_process: bool = False) -> AsyncIterator[Endpoint]:
    """The adapter for ``target``; for a local target, a local agent on a free loopback
    port that lives as long as the context (``speech=False``: with no speech models, for a
    session that neither speaks nor listens). The agent runs in this process, or with
    ``own_process`` in a child process (:mod:`voicecli.agent.child`: its speech work then
    never stalls this process, as a terminal app needs)."""
    cls = adapter_class(target.dialect)
    if not target.local:
        key = api_key(target, required=key_required(target))
        yield Endpoint(cls(target.dialect_config(api_key=key)), target.url or "", local=False)
        return
    async with _local_agent(greeting, faults, speech, own_process) as url:
        if target.agent_id is None:
            target.agent_id = LOCAL_AGENT_ID
        # the embedded agent checks no key; dialects that always send one get a placeholder
        placeholder = Secret("sk_local_embedded")
        yield Endpoint(cls(target.dialect_config(url=url, api_key=placeholder)),
                       "local agent, offline", local=True)


@contextlib.asynccontextmanager
async def _local_agent(greeting: str | None, faults: bool, speech: bool, own_process: bool) -> AsyncIterator[str]:
    """The embedded agent's URL, for the life of the context."""
    if own_process:
        from voicecli.agent.child import agent_process

        async with agent_process(greeting=greeting, allow_faults=faults, speech=speech) as child:
            yield child.url
        return
    from voicecli.agent.config import AgentConfig
    from voicecli.agent.server import LocalAgent

    config = AgentConfig(api_key=None, greeting=greeting, allow_faults=faults, speech=speech)
    async with LocalAgent(config) as agent:
        yield agent.url


def default_log_file() -> Path:
    """``<user log dir>/voicecli.log`` (platformdirs; XDG_STATE_HOME is honoured on Linux)."""
    from platformdirs import user_log_path

    return user_log_path("voicecli") / "voicecli.log"


def setup_logging(level: str | None = None, *, log_file: Path | None = None,
                  terminal_ui: bool = False) -> Path | None:
    """Logs go where asked, always redacted; returns the log file in use, if any.

    Without a full-screen UI, ``VOICECLI_LOG=debug`` sends them to stderr. With one
    (``terminal_ui``), nothing may reach the terminal: they go to ``log_file`` (default
    :func:`default_log_file`) when a level is set or a file is named (level debug), and
    every other library's logs and Python warnings are kept off the terminal too.
    """
    name = (level or os.environ.get("VOICECLI_LOG") or "").upper()
    if terminal_ui and log_file is not None and not name:
        name = "DEBUG"
    root = logging.getLogger("voicecli")
    root.propagate = False
    path: Path | None = None
    if not root.handlers:
        handler: logging.Handler = logging.StreamHandler() if name else logging.NullHandler()
        if terminal_ui and name:
            path = (log_file or default_log_file()).expanduser()
            checks.writable_file("--log-file", path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handler = logging.FileHandler(path, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"--log-file {path}: {exc.strerror or exc}") from None
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root.addHandler(handler)
        if terminal_ui:  # other libraries' warnings would otherwise print on the app's screen
            logging.getLogger().addHandler(handler)
            logging.captureWarnings(True)
    root.setLevel(getattr(logging, name, logging.WARNING) if name else logging.WARNING)
    return path
