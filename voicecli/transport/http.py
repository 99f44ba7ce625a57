"""The pre-connect HTTP calls (token exchange, signed URL), run in a thread."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

from voicecli.protocol.base import HttpRequest
from voicecli.transport.netmap import map_os_error


def _run(request: HttpRequest, timeout: float) -> tuple[int, bytes]:
    req = urllib.request.Request(  # noqa: S310 - only http(s) reaches here
        request.url, data=request.body, method=request.method, headers=dict(request.headers))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) only
            return resp.status, resp.read(1 << 20)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(1 << 16) if exc.fp else b""
    except urllib.error.URLError as exc:
        reason = exc.reason if isinstance(exc.reason, BaseException) else OSError(str(exc.reason))
        raise map_os_error(reason, request.url, timeout) from None
    except (OSError, TimeoutError) as exc:
        raise map_os_error(exc, request.url, timeout) from None


async def http_request(request: HttpRequest, timeout: float = 10.0) -> tuple[int, bytes]:
    """Run one request; returns (status, body). Network failures raise VoicecliError."""
    if not request.url.startswith(("http://", "https://")):
        raise ValueError("only http(s) URLs are fetched")
    return await asyncio.to_thread(_run, request, timeout)
