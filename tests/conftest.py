"""Shared fixtures come from plugin modules in tests/fixtures/, one per real component."""

from __future__ import annotations

pytest_plugins: list[str] = [
    "tests.fixtures.canary",
    "tests.fixtures.gitrepo",
    "tests.fixtures.github",
    "tests.fixtures.registry",
    "tests.fixtures.sigstore",
]
