"""Typer commands: the composition root. Textual is imported only by ``talk``."""
