"""Sans-I/O protocol layer: typed events and commands, and one adapter per dialect.

Nothing here opens a socket, touches audio or uses asyncio.
"""
