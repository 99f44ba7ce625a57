"""Scripted conversations: the turn engine, scenario files, their expectations and reports.

No UI here (no textual, typer or rich): the CLI, the load generator and the Locust user all
drive conversations through this package.
"""
