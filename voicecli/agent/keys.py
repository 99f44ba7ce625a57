"""The local agent's credentials: one API key (or none), short-lived single-use tokens
and the set of agent ids it answers to."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Collection, Mapping
from typing import Any


class LocalKeys:
    """A :class:`~voicecli.agent.interfaces.KeyCheck` for one server.

    ``api_key=None`` means no authentication (the in-process embedded agent): every key,
    including none, is valid. ``agent_ids=None`` accepts any non-empty agent id.
    """

    def __init__(self, api_key: str | None = None, agent_ids: Collection[str] | None = None) -> None:
        self._api_key = api_key
        self._agent_ids = frozenset(agent_ids) if agent_ids is not None else None
        self._tokens: dict[str, tuple[float, Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    @property
    def requires_key(self) -> bool:
        return self._api_key is not None

    def valid_key(self, key: str | None) -> bool:
        if self._api_key is None:
            return True
        if not key:
            return False
        return hmac.compare_digest(key.encode(), self._api_key.encode())

    def issue_token(self, scope: Mapping[str, Any], ttl_s: float) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._purge()
            self._tokens[token] = (time.monotonic() + ttl_s, dict(scope))
        return token

    def redeem_token(self, token: str) -> Mapping[str, Any] | None:
        with self._lock:
            entry = self._tokens.pop(token, None)
        if entry is None:
            return None
        expires, scope = entry
        return scope if time.monotonic() < expires else None

    def agent_exists(self, agent_id: str | None) -> bool:
        if not agent_id:
            return False
        return self._agent_ids is None or agent_id in self._agent_ids

    def _purge(self) -> None:
        now = time.monotonic()
        for token in [t for t, (exp, _s) in self._tokens.items() if exp <= now]:
            del self._tokens[token]
