"""What ``voicecli smoke`` reports: the names live in :mod:`voicecli.scenario.attribution`."""

from voicecli.scenario.attribution import SmokeReport, TurnReport, attribute, verdict

__all__ = ["SmokeReport", "TurnReport", "attribute", "verdict"]
