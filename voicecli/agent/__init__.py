"""The local agent server (``voicecli serve``): the embedded default and the test peer.

It speaks every dialect server-side, at each provider's real path, on one port.
"""
