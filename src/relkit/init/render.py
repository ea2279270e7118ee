"""The files `relkit init` writes, rendered as text from what `detect` found.

Pure: `render(detected, options)` returns {path: text}. The TOML is written by hand (the
standard library cannot write TOML) with every string through `_q`, whose JSON escaping is a
valid TOML basic string; detection already left out paths with unusual characters.
"""

from __future__ import annotations

import json
from typing import Literal

from relkit.core.records import record
from relkit.init.detect import Bundle, Component, Detected, VersionFileSpec

__all__ = [
    "CHECKOUT_ACTION",
    "RELKIT_SCHEMA_URL",
    "SETUP_PYTHON_ACTION",
    "InitOptions",
    "render",
    "render_config",
    "render_workflows",
]

# The JSON Schema of relkit.toml (issue 19); TOML editors (Taplo, Even Better TOML) read it
# from the `#:schema` line.
# The schema `relkit config --schema` prints, as committed in this repository (a test checks
# the path exists); TOML editors (Even Better TOML, taplo) read the `#:schema` line.
RELKIT_SCHEMA_URL = (
    "https://raw.githubusercontent.com/relkit/relkit/main/docs/reference/relkit.schema.json"
)

# The pins relkit's own workflows use (tests/unit/test_init_render.py keeps them equal).
CHECKOUT_ACTION = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
SETUP_PYTHON_ACTION = "actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b # v5.3.0"

Signing = Literal["keyless", "key", "none"]


@record
class InitOptions:
    relkit_version: str
    registry: str | None = None  # oci://host/path
    gitops: str | None = None  # OWNER/REPO
    signing: Signing = "keyless"


def _q(text: str) -> str:
    return json.dumps(text)


def _registry_base(detected: Detected, options: InitOptions) -> tuple[str, str]:
    """The OCI base for charts and bundles, and the comment saying where it came from."""
    if options.registry:
        return options.registry.rstrip("/"), "from --registry"
    if detected.repository:
        owner = detected.repository.split("/")[0].lower()  # GHCR names are lower case
        return f"oci://ghcr.io/{owner}", "GitHub's registry of the origin's owner"
    return "oci://localhost:5000", "a local registry: pass --registry oci://HOST/PATH"


def _version_file_lines(spec: VersionFileSpec, table: str) -> list[str]:
    lines = [f"[[{table}]]", f"path = {_q(spec.path)}"]
    if spec.key is not None:
        lines.append(f"key = {_q(spec.key)}")
    else:
        lines.append(f"pattern = {_q(spec.pattern or '')}")
    return [*lines, ""]


def _chart_lines(path: str, base: str, table: str) -> list[str]:
    return [
        f"[[{table}]]",
        f"path = {_q(path)}",
        f"registry = {_q(base + '/charts')}",
        "# The chart's version and appVersion are set from the release version when it is",
        '# packaged; image = "NAME" and image_values_key = "image.digest" pin its image.',
        "",
    ]


def _bundle_lines(bundle: Bundle, base: str, table: str) -> list[str]:
    return [
        f"[[{table}]]",
        f"name = {_q(bundle.name)}",
        f"path = {_q(bundle.path)}  # the directory holding {bundle.compose_file}",
        f"registry = {_q(base + '/bundles')}",
        "# Images this release builds (pinned by digest at release time), e.g.",
        '# images = ["ghcr.io/OWNER/web:{version}"]; other images are pinned as they are.',
        "images = []",
        "",
    ]


def _component_lines(component: Component, base: str) -> list[str]:
    lines = [
        "[[components]]",
        f"name = {_q(component.name)}",
        f"paths = [{_q(component.path)}]",
        f"tag_prefix = {_q(component.tag_prefix)}",
        "",
    ]
    for spec in component.version_files:
        lines += _version_file_lines(spec, "components.version_files")
    for chart in component.charts:
        lines += _chart_lines(chart, base, "components.charts")
    for bundle in component.bundles:
        lines += _bundle_lines(bundle, base, "components.bundles")
    return lines


def render_config(detected: Detected, options: InitOptions) -> str:
    base, base_source = _registry_base(detected, options)
    shape = detected.tag_shape
    lines = [
        f"#:schema {RELKIT_SCHEMA_URL}",
        f"# relkit configuration, written by `relkit init` (relkit {options.relkit_version}).",
        "# Check it with `relkit check`; preview: `relkit release --dry-run --forge none`.",
        "",
        "# Release tags: " + shape.tag_format.replace("{version}", "1.2.3") + ".",
        f"tag_format = {_q(shape.tag_format)}",
        "",
        "[changelog]",
    ]
    if detected.changelog is not None:
        where = (
            "below its `<!-- relkit: insert -->` line"
            if detected.changelog.insert_point == "marker"
            else "above its first release heading"
        )
        lines += [
            f"# {detected.changelog.file} exists: relkit keeps it, new releases go {where}.",
            f"file = {_q(detected.changelog.file)}",
        ]
    else:
        lines += [
            "# Created by the first `relkit cut` or `relkit changelog`.",
            'file = "CHANGELOG.md"',
        ]
    lines.append("")
    if detected.version_files:
        lines.append("# Files whose version `relkit cut` bumps.")
        for spec in detected.version_files:
            lines += _version_file_lines(spec, "version_files")
    if detected.repository:
        lines += [
            "[github]",
            f"repository = {_q(detected.repository)}  # from the origin remote",
            "",
        ]
    else:
        lines += [
            "[github]",
            "# No GitHub origin remote: releases write their notes and assets to dist/release/.",
            '# For GitHub Releases set repository = "OWNER/NAME" and forge = "github".',
            'forge = "none"',
            "",
        ]
    lines += ["[signing]"]
    if options.signing == "keyless":
        lines.append(
            "# Sigstore keyless: the CI's OIDC token (id-token: write in the release job)."
        )
    elif options.signing == "key":
        lines.append("# An ECDSA P-256 PEM key in RELKIT_SIGNING_KEY (a repository secret).")
    else:
        lines.append("# Bundles are not signed.")
    lines += [f"mode = {_q(options.signing)}", ""]
    if (
        detected.charts
        or detected.bundles
        or any(c.charts or c.bundles for c in detected.components)
    ):
        lines += [f"# Registry: {base} ({base_source}).", ""]
    for chart in detected.charts:
        lines += _chart_lines(chart, base, "charts")
    for bundle in detected.bundles:
        lines += _bundle_lines(bundle, base, "bundles")
    if detected.root_compose:
        lines += [
            f"# {detected.root_compose} sits at the repository root: a bundle ships its whole",
            "# directory, so move it into a directory of its own and add a [[bundles]] entry.",
            "",
        ]
    for component in detected.components:
        lines += _component_lines(component, base)
    if options.gitops:
        app = detected.repository.split("/")[1] if detected.repository else "app"
        lines += [
            "# The GitOps repository: `relkit release` opens the PR that moves staging; the",
            "# merge-to-main workflow's `relkit promote dev` moves dev.",
            "[promote]",
            f"repository = {_q(options.gitops)}",
            "",
            "[[promote.edits]]",
            f"file = {_q(f'apps/{app}/staging/values.yaml')}  # adjust to your layout",
            'key = "image.tag"',
            'value = "{version}"',
            "",
            "[[promote.environments]]",
            'name = "dev"',
            'branch = "relkit/promote-dev"  # one branch and PR that every dev bump reuses',
            "",
            "[[promote.environments.edits]]",
            f"file = {_q(f'apps/{app}/dev/values.yaml')}",
            "# The digest of the image `relkit promote dev --image NAME=REF` names.",
            'key = "image.digest"',
            'value = "{digest}"',
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _tag_patterns(detected: Detected) -> list[str]:
    first = "v*" if detected.tag_shape.tag_format.startswith("v") else "[0-9]*"
    patterns = [first]
    for component in detected.components:
        patterns.append(component.tag_prefix + first)
    return patterns


def _install(version: str) -> list[str]:
    return [
        f"      - uses: {SETUP_PYTHON_ACTION}",
        "        with:",
        '          python-version: "3.11"',
        "      - name: Install relkit",
        f'        run: python -m pip install --quiet "relkit=={version}"',
    ]


def _check_workflow(options: InitOptions) -> str:
    lines = [
        "# Written by `relkit init`: every pull request runs `relkit check` (read-only, no token).",
        "name: relkit check",
        "",
        "on:",
        "  pull_request:",
        "",
        "permissions:",
        "  contents: read",
        "",
        "jobs:",
        "  check:",
        "    runs-on: ubuntu-24.04",
        "    timeout-minutes: 15",
        "    steps:",
        f"      - uses: {CHECKOUT_ACTION}",
        "        with:",
        "          fetch-depth: 0 # the PR's commits and the tags",
        "          persist-credentials: false",
        *_install(options.relkit_version),
        "      - name: relkit check",
        "        env:",
        "          # Inputs reach the script as variables, never interpolated into it.",
        "          BASE: ${{ github.event.pull_request.base.sha }}",
        "          HEAD: ${{ github.event.pull_request.head.sha }}",
        "          TITLE: ${{ github.event.pull_request.title }}",
        '        run: relkit check --range "$BASE..$HEAD" --title "$TITLE"',
    ]
    return "\n".join(lines) + "\n"


def _uses_ghcr(detected: Detected, options: InitOptions) -> bool:
    return _registry_base(detected, options)[0].startswith("oci://ghcr.io/")


def _publishes(detected: Detected) -> bool:
    return bool(
        detected.charts
        or detected.bundles
        or any(c.charts or c.bundles for c in detected.components)
    )


def _release_workflow(detected: Detected, options: InitOptions) -> str:
    permissions = ["      contents: write # the GitHub Release and its assets"]
    if _publishes(detected) and _uses_ghcr(detected, options):
        permissions.append("      packages: write # push the chart and bundle to GHCR")
    if _publishes(detected) and options.signing == "keyless":
        permissions.append("      id-token: write # Sigstore keyless signing")
    env = ["          GITHUB_TOKEN: ${{ github.token }}"]
    if options.gitops:
        env.append("          RELKIT_GITOPS_TOKEN: ${{ secrets.RELKIT_GITOPS_TOKEN }}")
    if options.signing == "key":
        env.append("          RELKIT_SIGNING_KEY: ${{ secrets.RELKIT_SIGNING_KEY }}")
    tags = ", ".join(_q(p) for p in _tag_patterns(detected))
    lines = [
        "# Written by `relkit init`: a release tag publishes the release with `relkit release`.",
        "name: relkit release",
        "",
        "on:",
        "  push:",
        f"    tags: [{tags}]",
        "",
        "# Nothing by default; the release job asks for exactly what it needs.",
        "permissions: {}",
        "",
        "concurrency:",
        "  group: relkit-release-${{ github.ref }}",
        "  cancel-in-progress: false # never interrupt a half-published release; re-runs resume it",
        "",
        "jobs:",
        "  release:",
        "    runs-on: ubuntu-24.04",
        "    timeout-minutes: 30",
        "    permissions:",
        *permissions,
        "    steps:",
        f"      - uses: {CHECKOUT_ACTION}",
        "        with:",
        "          fetch-depth: 0 # tags and history for the changelog",
        "          persist-credentials: false",
        *_install(options.relkit_version),
    ]
    if _publishes(detected) and _uses_ghcr(detected, options):
        lines += [
            "      - name: Log in to GHCR",
            "        env:",
            "          TOKEN: ${{ github.token }}",
            "          ACTOR: ${{ github.actor }}",
            '        run: echo "$TOKEN" | docker login ghcr.io -u "$ACTOR" --password-stdin',
        ]
    lines += [
        "      - name: relkit release",
        "        env:",
        *env,
        "        run: relkit release",
    ]
    return "\n".join(lines) + "\n"


def _promote_workflow(options: InitOptions) -> str:
    lines = [
        "# Written by `relkit init`: a merge to main moves the dev environment in the GitOps",
        "# repository (`relkit promote dev`) to the images this merge built.",
        "name: relkit promote dev",
        "",
        "on:",
        "  push:",
        "    branches: [main]",
        "",
        "permissions:",
        "  contents: read",
        "",
        "jobs:",
        "  promote:",
        "    runs-on: ubuntu-24.04",
        "    timeout-minutes: 15",
        "    steps:",
        f"      - uses: {CHECKOUT_ACTION}",
        "        with:",
        "          fetch-depth: 0 # the dev version counts commits since the last release",
        "          persist-credentials: false",
        *_install(options.relkit_version),
        "      - name: relkit promote dev",
        "        env:",
        "          RELKIT_GITOPS_TOKEN: ${{ secrets.RELKIT_GITOPS_TOKEN }}",
        "          # One NAME=REFERENCE a line: the images your build job pushed for this",
        "          # commit, e.g. web=ghcr.io/OWNER/web:sha-${{ github.sha }}",
        '          IMAGES: ""',
        "        run: |",
        "          args=()",
        "          while IFS= read -r image; do",
        '            [ -n "$image" ] && args+=(--image "$image")',
        '          done <<< "$IMAGES"',
        '          if [ "${#args[@]}" -eq 0 ]; then',
        '            echo "::notice::set IMAGES in this workflow to promote this merge\'s images"',
        "            exit 0",
        "          fi",
        '          relkit promote dev "${args[@]}"',
    ]
    return "\n".join(lines) + "\n"


def render_workflows(detected: Detected, options: InitOptions) -> dict[str, str]:
    files = {
        ".github/workflows/relkit-check.yml": _check_workflow(options),
        ".github/workflows/relkit-release.yml": _release_workflow(detected, options),
    }
    if options.gitops:
        files[".github/workflows/relkit-promote.yml"] = _promote_workflow(options)
    return files


def render(detected: Detected, options: InitOptions) -> dict[str, str]:
    """Every file init writes except `.gitignore` (which it only appends to)."""
    return {"relkit.toml": render_config(detected, options), **render_workflows(detected, options)}
