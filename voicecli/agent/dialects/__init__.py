"""Server-side dialects of the local agent, registered by path.

One port serves every dialect. The server routes a request by what it is:

- ``GET`` with ``Upgrade: websocket`` on a registered path → a new instance of that
  path's :class:`~voicecli.agent.interfaces.ServerDialect` (one per connection).
- any other request → the :data:`HTTP_ENDPOINTS` handler for ``(METHOD, path)``.
- anything else → 404 (405 when the path is known with another method).

How to add a dialect (a module ``voicecli/agent/dialects/<name>.py``; every module in
this package is imported by :func:`load_all`, so no other file needs editing):

1. Subclass ``ServerDialect``; set ``name`` and ``path`` (the provider's real WebSocket
   path, e.g. ``"/v1/convai/conversation"``) and decorate the class with ``@register``.
   The server builds it with no arguments, once per connection.
2. ``accept(request, keys)`` checks credentials and query parameters before the
   upgrade and sets per-connection state (``input_rate``, ``output_rate``,
   ``audio_out``); return ``Reject(status, body)`` to refuse with that HTTP status.
   ``keys`` is the server's :class:`~voicecli.agent.interfaces.KeyCheck`:
   ``valid_key(key)`` (always true when the server runs without a key),
   ``issue_token(scope, ttl_s)`` / ``redeem_token(token)`` (single use),
   ``agent_exists(agent_id)``, ``agent_is_public(agent_id)``. Set ``subprotocol`` here
   for the WebSocket subprotocol the server answers with.
3. ``ready_on_open``: True (default) makes the engine emit ``Ready`` at once, then the
   greeting. False: the session waits until ``feed`` returns a ``Ready`` output (after
   ElevenLabs' initiation data or token-pcm's token message); the server sends it and
   starts the engine then. ``on_open()`` frames go out first either way. With
   ``ready_timeout`` (seconds) set, ``on_ready_timeout()`` outputs are sent when no
   ``Ready`` came in time (e.g. ``ErrorOut`` + ``Closing(reason, close_code=4001)``).
   A ``Ready`` may carry ``greeting`` to override the agent's first message.
4. ``feed(frame)`` reads the frame with the dialect's wire vocabulary
   (``voicecli.protocol.wire.<name>.parse_client``, the module the client adapter uses;
   its ``WireError`` names what was wrong) and returns ``UserInput`` values for the engine
   and may answer directly
   with ``AgentOutput`` values (``Ready``, ``ErrorOut``, ``Closing``). A
   ``ProtocolViolation`` with ``close_code`` closes the socket with that code after an
   ``ErrorOut`` is encoded. ``encode(output)`` returns text (``str``, the vocabulary's
   ``encode`` of its messages) or binary (``bytes``) frames; return ``[]`` for outputs the
   protocol has no message for.
5. Keepalive: set ``ping_interval`` (seconds) to have the engine emit ``PingOut`` with
   increasing ``event_id``; ``feed`` turns the client's answer into ``UserPong``.
   WebSocket-level pings are always answered by the server itself.
6. Plain HTTP endpoints (token exchange, signed URL): call
   ``register_http("POST", "/api/v1/sdk/token", handler)`` at import time, where
   ``handler(call: HttpCall, keys: KeyCheck) -> HttpReply`` is synchronous and quick.
   ``call.base_url`` is ``http://HOST:PORT`` as the client addressed the server (for
   building a signed WebSocket URL).
7. What the engine reads of a dialect has a default in ``ServerDialect``: ``paced``,
   ``reply_text_first``, ``audio_out``, ``default_greeting`` (None: the brain's; "" none),
   ``chunker`` (how replies are split for synthesis; None: whole sentences) and
   ``client_tools`` (the engine may ask the client to run tools). Override what differs.

Per-connection fault injection (``?fault=...``) is handled by the server for every
dialect; a dialect never sees it.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import TypeVar

from voicecli.agent.interfaces import HttpHandler, ServerDialect

log = logging.getLogger(__name__)

DIALECTS: dict[str, type[ServerDialect]] = {}
"""WebSocket path → dialect class."""

HTTP_ENDPOINTS: dict[tuple[str, str], HttpHandler] = {}
"""(METHOD, path) → plain HTTP handler."""

D = TypeVar("D", bound=type[ServerDialect])


def register(cls: D) -> D:
    """Register a dialect class at its ``path`` (usable as a class decorator)."""
    path = cls.path
    if not path.startswith("/"):
        raise ValueError(f"dialect {cls.__name__} path must start with '/': {path!r}")
    for where in (path, *cls.aliases):
        existing = DIALECTS.get(where)
        if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"path {where} is already served by {existing.__name__}")
        DIALECTS[where] = cls
    return cls


def register_http(method: str, path: str, handler: HttpHandler) -> None:
    """Serve a plain HTTP endpoint (any method but a WebSocket upgrade)."""
    HTTP_ENDPOINTS[(method.upper(), path)] = handler


def dialect_for(path: str) -> type[ServerDialect] | None:
    load_all()
    return DIALECTS.get(path)


def http_handler(method: str, path: str) -> tuple[HttpHandler | None, bool]:
    """The handler for a request, and whether the path is known for another method."""
    load_all()
    handler = HTTP_ENDPOINTS.get((method.upper(), path))
    known = any(p == path for (_m, p) in HTTP_ENDPOINTS) or path in DIALECTS
    return handler, known


_loaded = False


def load_all() -> None:
    """Import every dialect module of this package once (each registers itself)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        name = f"{__name__}.{info.name}"
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - one broken dialect must not take the others down
            log.exception("could not load the local agent dialect %s", name)


def names() -> dict[str, str]:
    """Dialect name → path, for listings."""
    load_all()
    return {cls.name: cls.path for cls in DIALECTS.values()}
