"""The local agent's credentials: one API key (or none), short-lived tokens, the set of
agent ids it answers to and the agents that are public (no key needed)."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

REUSABLE = "reusable"  # a token scope with this key set true stays valid until it expires


class LocalKeys:
    """A :class:`~voicecli.agent.interfaces.KeyCheck` for one server.

    ``api_key=None`` means no authentication (the in-process embedded agent): every key,
    including none, is valid. ``agent_ids=None`` accepts any non-empty agent id.
    ``public_agents`` need no key even when the server has one (:meth:`agent_is_public`).
    Tokens are single use unless their scope says ``reusable: True`` (then any number of
    uses until they expire). ``clock`` is the monotonic clock in seconds (tests inject one).
    """

    def __init__(self, api_key: str | None = None, agent_ids: Collection[str] | None = None,
                 public_agents: Collection[str] = (), clock: Callable[[], float] = time.monotonic) -> None:
        self._api_key = api_key
        self._agent_ids = frozenset(agent_ids) if agent_ids is not None else None
        self._public = frozenset(public_agents)
        self._clock = clock
        self._tokens: dict[str, tuple[float, Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    def valid_key(self, key: str | None) -> bool:
        if self._api_key is None:
            return True
        if not key:
            return False
        return hmac.compare_digest(key.encode(), self._api_key.encode())

    def agent_is_public(self, agent_id: str | None) -> bool:
        """True when ``agent_id`` may be used without a key (a server without a key: all)."""
        return self._api_key is None or (agent_id is not None and agent_id in self._public)

    def issue_token(self, scope: Mapping[str, Any], ttl_s: float) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._purge()
            self._tokens[token] = (self._clock() + ttl_s, dict(scope))
        return token

    def redeem_token(self, token: str) -> Mapping[str, Any] | None:
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return None
            expires, scope = entry
            if self._clock() >= expires:
                del self._tokens[token]
                return None
            if not scope.get(REUSABLE):
                del self._tokens[token]
            return scope

    def agent_exists(self, agent_id: str | None) -> bool:
        if not agent_id:
            return False
        return self._agent_ids is None or agent_id in self._agent_ids or agent_id in self._public

    def _purge(self) -> None:
        now = self._clock()
        for token in [t for t, (exp, _s) in self._tokens.items() if exp <= now]:
            del self._tokens[token]
