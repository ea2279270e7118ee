"""Promotion edits: one value changes, every other byte of the GitOps file stays."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relkit.core.config import PromoteConfig, PromoteEdit
from relkit.core.errors import ConfigError, RelkitError
from relkit.core.model import ImagePin, ReleasePlan, Version
from relkit.promote import ValueContext, apply_edit, check_downgrade, plan_promotion, render_value
from relkit.promote.marker import read_marker, write_marker
from relkit.promote.naming import branch_name
from relkit.promote.paths import parse_key_path
from relkit.promote.values import version_from_value

WEB = "sha256:" + "b" * 64
WORKER = "sha256:" + "c" * 64

VALUES = """\
# Staging values for the web app.
replicaCount: 2  # two pods in staging

image:
  repository: "localhost:5000/acme/web"  # quoted on purpose
  tag: '1.1.0'
  digest: sha256:aaaa  # set by relkit
  pullPolicy: IfNotPresent

ingress:
  hosts: [staging.example.com, "www.staging.example.com"]
"""

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml   # the app
images:
- name: web
  newName: localhost:5000/acme/web
  newTag: 1.1.0
- name: worker  # background jobs
  newName: localhost:5000/acme/worker
  digest: sha256:1111
"""


def make_plan(version: str = "1.2.0", images: tuple[ImagePin, ...] | None = None) -> ReleasePlan:
    pins = (
        images
        if images is not None
        else (
            ImagePin(f"localhost:5000/acme/web:{version}", WEB),
            ImagePin(f"localhost:5000/acme/worker:{version}", WORKER),
        )
    )
    return ReleasePlan(
        version=Version.parse(version),
        tag=f"v{version}",
        commit="0123456789abcdef0123456789abcdef01234567",
        committed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        previous_tag="v1.1.0",
        notes="## Features\n\n- a feature\n",
        repository="acme/app",
        images=pins,
    )


def helm(key: str, value: str = "x") -> PromoteEdit:
    return PromoteEdit(file="values.yaml", kind="helm-values", key=key, value=value)


def test_helm_digest_changes_only_that_token() -> None:
    result = apply_edit(VALUES, helm("image.digest"), WEB)
    assert result.text == VALUES.replace("sha256:aaaa  #", f"{WEB}  #")
    assert (result.old_value, result.new_value) == ("sha256:aaaa", WEB)


def test_quote_style_is_kept() -> None:
    single = apply_edit(VALUES, helm("image.tag"), "1.2.0")
    assert single.text == VALUES.replace("tag: '1.1.0'", "tag: '1.2.0'")
    double = apply_edit(VALUES, helm("image.repository"), "ghcr.io/acme/web")
    assert double.text == VALUES.replace('"localhost:5000/acme/web"  #', '"ghcr.io/acme/web"  #')


def test_plain_value_that_would_change_type_gets_quotes() -> None:
    # `1.20` plain would be the float 1.2 for Helm; `on` a boolean in YAML 1.1.
    assert apply_edit(VALUES, helm("image.pullPolicy"), "1.20").text == VALUES.replace(
        "pullPolicy: IfNotPresent", 'pullPolicy: "1.20"'
    )
    assert apply_edit(VALUES, helm("image.pullPolicy"), "on").text == VALUES.replace(
        "pullPolicy: IfNotPresent", 'pullPolicy: "on"'
    )


def test_empty_and_null_values_are_filled_in_place() -> None:
    text = "image:\n  digest:   # filled by relkit\n  tag: ~\n"
    filled = apply_edit(text, helm("image.digest"), WEB)
    assert filled.text == f"image:\n  digest: {WEB}   # filled by relkit\n  tag: ~\n"
    assert filled.old_value is None
    tagged = apply_edit(text, helm("image.tag"), "1.2.0")
    assert tagged.text == "image:\n  digest:   # filled by relkit\n  tag: 1.2.0\n"


def test_flow_list_item() -> None:
    edit = PromoteEdit(file="values.yaml", kind="yaml", key="ingress.hosts[1]")
    result = apply_edit(VALUES, edit, "new.example.com")
    assert result.text == VALUES.replace('"www.staging.example.com"', '"new.example.com"')


def test_generic_yaml_paths_with_indexes_and_selectors() -> None:
    deployment = (
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: sidecar\n"
        "          image: envoy:1.30\n"
        "        - name: web  # main\n"
        "          image: localhost:5000/acme/web:1.1.0@sha256:aaaa\n"
    )
    pinned = f"localhost:5000/acme/web:1.2.0@{WEB}"
    by_index = PromoteEdit(
        file="deploy.yaml", kind="yaml", key="spec.template.spec.containers[1].image"
    )
    by_name = PromoteEdit(
        file="deploy.yaml", kind="yaml", key="spec.template.spec.containers[name=web].image"
    )
    expected = deployment.replace("localhost:5000/acme/web:1.1.0@sha256:aaaa", pinned)
    assert apply_edit(deployment, by_index, pinned).text == expected
    assert apply_edit(deployment, by_name, pinned).text == expected


def test_quoted_key_segment_with_dots() -> None:
    text = "podAnnotations:\n  relkit.dev/release: v1.1.0\n"
    edit = PromoteEdit(file="v.yaml", kind="yaml", key='podAnnotations."relkit.dev/release"')
    assert apply_edit(text, edit, "v1.2.0").text == text.replace("v1.1.0", "v1.2.0")


def test_kustomize_existing_digest_field() -> None:
    edit = PromoteEdit(file="kustomization.yaml", kind="kustomize", image="worker")
    result = apply_edit(KUSTOMIZATION, edit, WORKER)
    assert result.text == KUSTOMIZATION.replace("digest: sha256:1111", f"digest: {WORKER}")
    assert result.old_value == "sha256:1111"


def test_kustomize_adds_missing_digest_after_name() -> None:
    edit = PromoteEdit(file="kustomization.yaml", kind="kustomize", image="web")
    result = apply_edit(KUSTOMIZATION, edit, WEB)
    assert result.text == KUSTOMIZATION.replace("- name: web\n", f"- name: web\n  digest: {WEB}\n")
    assert result.old_value is None


def test_kustomize_new_tag_from_value_template() -> None:
    edit = PromoteEdit(file="kustomization.yaml", kind="kustomize", image="web", value="{version}")
    result = apply_edit(KUSTOMIZATION, edit, "1.2.0")
    assert result.text == KUSTOMIZATION.replace("newTag: 1.1.0", "newTag: 1.2.0")


def test_kustomize_missing_entry_names_file_and_image() -> None:
    edit = PromoteEdit(file="kustomization.yaml", kind="kustomize", image="api")
    with pytest.raises(ConfigError, match=r"kustomization\.yaml: key images\[name=api\]"):
        apply_edit(KUSTOMIZATION, edit, WEB)


def test_kustomize_rejects_unknown_field() -> None:
    edit = PromoteEdit(file="k.yaml", kind="kustomize", image="web", key="tag")
    with pytest.raises(ConfigError, match="not a kustomize image field"):
        apply_edit(KUSTOMIZATION, edit, "1.2.0")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("image.sha", r"values\.yaml: key image\.sha not found \(no 'sha' at image; keys there"),
        ("images.digest", r"values\.yaml: key images\.digest not found"),
        ("ingress.hosts[5]", r"index 5 at ingress\.hosts, the list has 2"),
        ("image", r"image is a mapping, not a single value"),
        ("replicaCount.x", r"expected a mapping at replicaCount"),
    ],
)
def test_missing_keys_are_config_errors(key: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        apply_edit(VALUES, helm(key), "x")


def test_unsupported_layouts_are_refused_not_mangled() -> None:
    with pytest.raises(RelkitError, match="block scalar"):
        apply_edit("image:\n  digest: |\n    sha256:a\n", helm("image.digest"), WEB)
    with pytest.raises(RelkitError, match="2 YAML documents"):
        apply_edit("a: 1\n---\nb: 2\n", helm("a"), "2")
    with pytest.raises(RelkitError, match=r"values\.yaml: not valid YAML \(line 2\)"):
        apply_edit("a: [1\nb: : :\n", helm("a"), "2")


def test_malformed_key_paths() -> None:
    for bad in ("", "a..b", "a[", "a[x]", 'a."b'):
        with pytest.raises(ConfigError):
            parse_key_path(bad)
    assert str(parse_key_path('a."b.c"[0][name=x].d')) == 'a."b.c"[0][name=x].d'


def test_placeholders() -> None:
    context = ValueContext(make_plan(), chart_version="0.5.0")
    assert render_value("{version}", context) == "1.2.0"
    assert render_value("{tag}", context) == "v1.2.0"
    assert render_value("chart-{chart_version}", context) == "chart-0.5.0"
    assert render_value("{digest:web}", context) == WEB
    assert render_value("{digest:localhost:5000/acme/worker}", context) == WORKER
    assert render_value("{image:worker}", context) == f"localhost:5000/acme/worker:1.2.0@{WORKER}"
    assert render_value("{repository:web}", context) == "localhost:5000/acme/web"
    assert render_value("{{literal}}", context) == "{literal}"
    single = ValueContext(make_plan(images=(ImagePin("r/acme/web:1.2.0", WEB),)))
    assert render_value("{digest}", single) == WEB


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{digest}", r"\{digest\} is ambiguous: the release has 2 images \(web, worker\)"),
        ("{digest:api}", r"no release image named 'api'"),
        ("{sha}", r"unknown placeholder \{sha\}"),
        ("{image}", r"\{image\} needs an image name"),
        ("{version:web}", r"\{version\} takes no argument"),
        ("{chart_version}", r"this release has no chart"),
        ("v{version", r"unbalanced brace"),
    ],
)
def test_placeholder_errors_are_config_errors(template: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        render_value(template, ValueContext(make_plan()))


def test_version_read_back_from_values() -> None:
    assert version_from_value("{version}", "1.3.0") == Version.parse("1.3.0")
    assert version_from_value("v{version}", "v1.3.0-rc.1") == Version.parse("1.3.0-rc.1")
    assert version_from_value("{tag}", "api/v2.0.0") == Version.parse("2.0.0")
    assert version_from_value("{digest}", WEB) is None
    assert version_from_value("{version}", "latest") is None


def test_marker_written_on_top_and_replaced_in_place() -> None:
    first = write_marker(VALUES, Version.parse("1.2.0"))
    assert first == "# relkit.dev/version: 1.2.0\n" + VALUES
    assert read_marker(first) == Version.parse("1.2.0")
    second = write_marker(first, Version.parse("1.3.0"))
    assert second == "# relkit.dev/version: 1.3.0\n" + VALUES
    directive = "%YAML 1.2\n---\na: 1\n"
    assert write_marker(directive, Version.parse("1.0.0")) == (
        "%YAML 1.2\n---\n# relkit.dev/version: 1.0.0\na: 1\n"
    )
    assert read_marker(VALUES) is None


def promote_config(*edits: PromoteEdit) -> PromoteConfig:
    return PromoteConfig(repository="acme/gitops", edits=list(edits))


def test_plan_promotion_combines_edits_per_file_and_writes_marker() -> None:
    files = {"values.yaml": VALUES, "kustomization.yaml": KUSTOMIZATION}
    config = promote_config(
        helm("image.digest", "{digest:web}"),
        helm("image.tag", "{version}"),
        PromoteEdit(file="kustomization.yaml", kind="kustomize", image="worker"),
    )
    # {digest} on the kustomize edit is ambiguous with two images: name it.
    with pytest.raises(ConfigError, match=r"promote\.edits\[2\]\.value"):
        plan_promotion(config, ValueContext(make_plan()), files.__getitem__)
    config = promote_config(
        helm("image.digest", "{digest:web}"),
        helm("image.tag", "{version}"),
        PromoteEdit(
            file="kustomization.yaml", kind="kustomize", image="worker", value="{digest:worker}"
        ),
    )
    promotion = plan_promotion(config, ValueContext(make_plan()), files.__getitem__)
    assert promotion.changed
    assert promotion.deployed == Version.parse("1.1.0")  # read back from image.tag
    assert [(e.file, e.location, e.old_value) for e in promotion.edits] == [
        ("values.yaml", "image.digest", "sha256:aaaa"),
        ("values.yaml", "image.tag", "1.1.0"),
        ("kustomization.yaml", "images[name=worker].digest", "sha256:1111"),
    ]
    values = next(f for f in promotion.files if f.file == "values.yaml")
    assert values.new_text == "# relkit.dev/version: 1.2.0\n" + VALUES.replace(
        "sha256:aaaa", WEB
    ).replace("'1.1.0'", "'1.2.0'")


def test_already_promoted_and_downgrade() -> None:
    config = promote_config(helm("image.digest", "{digest:web}"))
    current = write_marker(VALUES.replace("sha256:aaaa", WEB), Version.parse("1.3.0"))
    same = plan_promotion(config, ValueContext(make_plan("1.3.0")), lambda _: current)
    assert not same.changed
    older = plan_promotion(
        config,
        ValueContext(make_plan("1.2.0", (ImagePin("r/web:1.2.0", "sha256:" + "d" * 64),))),
        lambda _: current,
    )
    assert older.changed and older.deployed == Version.parse("1.3.0")
    with pytest.raises(RelkitError, match=r"staging is at 1\.3\.0, newer than 1\.2\.0"):
        check_downgrade(older, allow_downgrade=False)
    check_downgrade(older, allow_downgrade=True)


def test_branch_names() -> None:
    plan = make_plan()
    assert branch_name(promote_config(), plan) == "relkit/promote-staging-1.2.0"
    custom = PromoteConfig(repository="a/b", branch="deploy/{environment}", environment="prod")
    assert branch_name(custom, plan) == "deploy/prod"
    for bad in ("x/{sha}", "a..{version}", "{environment} x"):
        with pytest.raises(ConfigError):
            branch_name(PromoteConfig(repository="a/b", branch=bad), plan)


def test_crlf_line_endings_are_kept() -> None:
    text = "# values\r\nimage:\r\n  digest: sha256:aaaa\r\n  tag: 1.1.0\r\n"
    result = apply_edit(text, helm("image.digest"), WEB)
    assert result.text == text.replace("sha256:aaaa", WEB)
    marked = write_marker(result.text, Version.parse("1.2.0"))
    assert marked == "# relkit.dev/version: 1.2.0\r\n" + result.text
    kustomization = "images:\r\n- name: web\r\n  newTag: 1.1.0\r\n"
    edit = PromoteEdit(file="k.yaml", kind="kustomize", image="web")
    assert apply_edit(kustomization, edit, WEB).text == (
        f"images:\r\n- name: web\r\n  digest: {WEB}\r\n  newTag: 1.1.0\r\n"
    )


def test_values_inherited_through_merge_keys_are_refused() -> None:
    text = "base: &base\n  digest: sha256:aaaa\nimage:\n  <<: *base\n  tag: 1.1.0\n"
    with pytest.raises(RelkitError, match=r"cannot locate image\.digest"):
        apply_edit(text, helm("image.digest"), WEB)
    # Editing the anchored original would silently change image.digest too: refused.
    with pytest.raises(RelkitError, match=r"could not rewrite base\.digest without changing"):
        apply_edit(text, helm("base.digest"), WEB)


def test_single_quoted_value_with_quote_is_escaped() -> None:
    text = "note: 'it''s 1.1.0'  # quoted\n"
    edit = PromoteEdit(file="v.yaml", kind="yaml", key="note")
    result = apply_edit(text, edit, "it's 1.2.0")
    assert result.text == "note: 'it''s 1.2.0'  # quoted\n"
    assert result.old_value == "it's 1.1.0"
