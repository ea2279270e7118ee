"""Time to refuse each hostile structured document of issue 9 §7, and to load real ones.

Each used to be a traceback or a stall (a YAML alias bomb in a values file: killed at 25 s,
318 MiB). Every refusal must take well under a second. Run:

    .venv/bin/python bench/hostile_documents.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML

from relkit.core.structured import DocumentError, load_json, load_ruamel, load_toml, load_yaml

__all__ = ["cases", "main"]

_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def cases() -> dict[str, Callable[[], Any]]:
    deep_flow = "services: " + "[" * 50_000 + "]" * 50_000
    big_values = "".join(
        f"key{i}:\n  image: {{tag: '{i}', digest: sha256:{i:064d}}}\n" for i in range(20_000)
    )
    return {
        ".sigstore.json, 100,000 nested lists": lambda: load_json(
            "[" * 100_000 + "]" * 100_000, source="b"
        ),
        "compose.yaml, 50,000 nested flow sequences (ruamel)": lambda: load_ruamel(
            YAML(typ="rt"), deep_flow, source="c"
        ),
        "relkit.toml, 20,000 nested arrays": lambda: load_toml(
            "a = " + "[" * 20_000 + "]" * 20_000, source="t"
        ),
        "relkit.toml, a 20,000-segment dotted key": lambda: load_toml(
            "a" + ".a" * 20_000 + " = 1", source="t"
        ),
        "values.yaml alias bomb (ruamel)": lambda: load_ruamel(YAML(typ="rt"), _BOMB, source="v"),
        "values.yaml alias bomb (PyYAML)": lambda: load_yaml(_BOMB, source="v"),
        "ok: 220 KB values.yaml (ruamel, 2,000 keys)": lambda: load_ruamel(
            YAML(typ="rt"), big_values, source="v"
        ),
        "ok: 1 MB JSON manifest list": lambda: load_json(
            json.dumps([{"digest": "sha256:" + "0" * 64, "size": i} for i in range(12_000)]),
            source="m",
        ),
    }


def main() -> None:
    for name, run in cases().items():
        start = time.perf_counter()
        try:
            run()
            outcome = "loaded"
        except DocumentError as exc:
            outcome = f"refused: {exc.message}"
        print(f"{time.perf_counter() - start:8.3f} s  {name}: {outcome}")


if __name__ == "__main__":
    main()
