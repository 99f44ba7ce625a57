"""The terminal UI of ``voicecli talk``."""

from voicecli.tui.app import VoiceApp, create_app
from voicecli.tui.binding import LiveSession, SessionFactory, SessionLike, TalkSettings
from voicecli.tui.ptt import HoldDetector, PttMode, PushToTalk

__all__ = ["HoldDetector", "LiveSession", "PttMode", "PushToTalk", "SessionFactory", "SessionLike",
           "TalkSettings", "VoiceApp", "create_app"]
