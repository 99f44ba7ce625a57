"""Help text placeholders: ``--flag`` shows none, a value shows its metavar (``TEXT``,
``N``, ``PATH``...) instead of Typer's Python types (``<bool>``, ``<list[str]>``)."""

from __future__ import annotations

from typing import Any

from typer.core import TyperOption

#: Typer's type label → the placeholder shown
PLACEHOLDERS = {"str": "TEXT", "int": "N", "float": "NUMBER", "path": "PATH", "Path": "PATH", "bool": "BOOL"}


def placeholder(option: Any, label: str | None) -> str | None:
    """What an option's value column shows: nothing for a flag; its metavar when set; else
    the element type's name (a repeatable option says "repeatable" in its help)."""
    if getattr(option, "is_flag", False) or getattr(option, "count", False):
        return None
    metavar: str | None = getattr(option, "metavar", None)
    if metavar is not None:
        return metavar
    if label is None:
        return None
    label = label.strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    if "|" in label or " " in label:
        return label  # choices (a|b|c) and ranges read well as they are
    return PLACEHOLDERS.get(label, label.upper())


def install() -> None:
    """Use :func:`placeholder` for every Typer option's help (idempotent)."""
    if getattr(TyperOption.display_type_rich, "_voicecli", False):
        return
    original = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return placeholder(self, original(self, ctx) if self.metavar is None else self.metavar)

    display_type_rich._voicecli = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
