"""voicecli: a terminal voice client for hosted realtime voice agents."""

__version__ = "0.1.0"
