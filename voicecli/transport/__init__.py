"""Client-side I/O to providers: the WebSocket connection and the pre-connect HTTP calls.

This is the only package that imports ``websockets`` on the client side.
"""

from voicecli.transport.errors import ConnectionEnded, HandshakeRejected
from voicecli.transport.http import http_request
from voicecli.transport.ws import Connection, connect

__all__ = ["Connection", "ConnectionEnded", "HandshakeRejected", "connect", "http_request"]
