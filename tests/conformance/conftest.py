"""Conformance tests: official vendor clients against the local agent on loopback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

JS_PEER = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="session")
def node_peer() -> Path:
    """The node test peer's folder (``tests/conformance/js``), installed by ``make setup``.
    Missing, it fails the tests that need it: it never skips them."""
    if shutil.which("node") is None:
        pytest.fail("node not found: run `make setup` (installs Node.js and the JS test peer)", pytrace=False)
    for package in ("@elevenlabs/client", "ws"):
        if not (JS_PEER / "node_modules" / package / "package.json").is_file():
            pytest.fail(f"{package} is not installed in {JS_PEER}: run `make setup`", pytrace=False)
    return JS_PEER
