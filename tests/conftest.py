"""Shared fixtures come from plugin modules in tests/fixtures/, one per real component."""

from __future__ import annotations

import pytest

pytest_plugins: list[str] = [
    "tests.fixtures.canary",
    "tests.fixtures.gitrepo",
    "tests.fixtures.github",
    "tests.fixtures.registry",
    "tests.fixtures.sigstore",
]


# The modules whose tests run longest (several seconds each), longest first. They start the
# run: with `--dist worksteal` each worker runs its share from the front and an idle worker
# takes tests from the back of another's, so the run then ends on short tests instead of a
# long e2e test holding one core while the others wait.
SLOW_FIRST = (
    "tests/e2e/test_release_pr_kill.py",
    "tests/e2e/test_kill_anywhere.py",
    "tests/e2e/test_release_pr_publish.py",
    "tests/e2e/test_release.py",
    "tests/e2e/test_tutorial.py",
    "tests/e2e/test_components.py",
    "tests/e2e/test_release_pr.py",
    "tests/e2e/test_preflight.py",
    "tests/e2e/test_pr_preview.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: index for index, path in enumerate(SLOW_FIRST)}

    def key(item: pytest.Item) -> int:
        return rank.get(item.nodeid.split("::", 1)[0], len(SLOW_FIRST))

    items.sort(key=key)  # stable: every other test keeps its place, each module its order
