"""One typed vocabulary per dialect: the messages both sides send, read and written in
one place (:mod:`.codec`), shared by the client adapters and the local agent's dialects.

``voicecli.protocol.wire.<dialect>`` declares the dialect's messages and gives
``parse_server(text)``, ``parse_client(text)`` and ``encode(message)``; malformed input
raises :class:`~voicecli.protocol.wire.codec.WireError`.
"""

from voicecli.protocol.wire.codec import Message, Unhandled, WireError

__all__ = ["Message", "Unhandled", "WireError"]
