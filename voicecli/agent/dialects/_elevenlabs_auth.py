"""ElevenLabs credentials, server side: the signed-URL endpoint and who may connect.

``GET /v1/convai/conversation/get-signed-url?agent_id=ID`` with ``xi-api-key`` answers
``{"signed_url": "ws://HOST:PORT/v1/convai/conversation?agent_id=ID&token=…"}``. The
URL starts conversations for ``SIGNED_URL_TTL_S`` (15 minutes), any number of them, as
the hosted service's do; with ``include_conversation_id=true`` the reply also carries a
``conversation_id`` (the session's) and the URL is good for one conversation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from voicecli.agent.interfaces import HttpCall, HttpReply, KeyCheck
from voicecli.agent.keys import REUSABLE

DIALECT = "elevenlabs"
CONVERSATION_PATH = "/v1/convai/conversation"
SIGNED_URL_PATH = "/v1/convai/conversation/get-signed-url"
SIGNED_URL_TTL_S = 15 * 60


def xi_key(headers: Mapping[str, str]) -> str | None:
    value = headers.get("xi-api-key")
    return value.strip() or None if isinstance(value, str) else None


def is_public(keys: KeyCheck, agent_id: str | None) -> bool:
    """A public agent needs no credentials (every agent when the server has no key)."""
    return keys.agent_is_public(agent_id)


def get_signed_url(call: HttpCall, keys: KeyCheck) -> HttpReply:
    key = xi_key(call.headers)
    if not keys.valid_key(key):
        return HttpReply.json(401, {"detail": {"status": "invalid_api_key",
                                               "message": "Invalid or missing xi-api-key"}})
    agent_id = call.query.get("agent_id")
    if not agent_id:
        return HttpReply.json(422, {"detail": [{"loc": ["query", "agent_id"], "msg": "field required"}]})
    if not keys.agent_exists(agent_id):
        return HttpReply.json(404, {"detail": {"status": "agent_not_found",
                                               "message": f"Agent {agent_id} not found"}})
    scope: dict[str, Any] = {"dialect": DIALECT, "agent_id": agent_id, REUSABLE: True}
    reply: dict[str, Any] = {}
    if call.query.get("include_conversation_id", "").lower() in ("true", "1"):
        scope[REUSABLE] = False  # the signature is then good for one conversation
        scope["conversation_id"] = reply["conversation_id"] = f"conv_{uuid.uuid4().hex[:24]}"
    token = keys.issue_token(scope, SIGNED_URL_TTL_S)
    base = "ws" + call.base_url[len("http"):] if call.base_url.startswith("http") else call.base_url
    signed = f"{base}{CONVERSATION_PATH}?{urlencode({'agent_id': agent_id, 'token': token})}"
    return HttpReply.json(200, {"signed_url": signed, **reply})
