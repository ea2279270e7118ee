"""Hostile structure in every YAML/JSON/TOML relkit reads from outside (issue 9 §7).

Each document is refused with one `relkit: error:` line and exit 2, before any parser
recurses into it or any walker expands it.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from relkit.adapters.gitops_repo import GitOpsRepo
from relkit.adapters.oci_referrers import list_referrers, referrers_tag
from relkit.adapters.registry import OCI_INDEX, Manifest, Reference, RegistryClient
from relkit.bundle.compose import parse_compose
from relkit.cli import main
from relkit.core.config import PromoteEdit
from relkit.core.errors import EXIT_USAGE, RelkitError
from relkit.core.structured import DocumentError
from relkit.cut.version_files import bump_toml_key, bump_yaml_key
from relkit.promote.edits import apply_edit
from relkit.release.steps.chart import set_chart_versions
from relkit.signing.ambient import github_actions_token
from relkit.signing.attest import parse_bundle_json
from relkit.signing.keyless import verify_blob_keyless
from tests.fixtures.gitrepo import BuiltRepo
from tests.fixtures.registry import RegistryServer, push_test_image

MakeRepo = Callable[..., BuiltRepo]

ALIAS_BOMB = (
    "image:\n  digest: sha256:0\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
)
DEEP_FLOW = "[" * 50_000 + "]" * 50_000
DEEP_JSON = "[" * 100_000 + "]" * 100_000


def test_deep_sigstore_bundle_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(DocumentError, match="Sigstore bundle: nested deeper than 100 levels"):
        verify_blob_keyless(
            b"data", DEEP_JSON, identity="x", issuer="https://token.actions.githubusercontent.com"
        )
    # The same through the command a self-hoster runs.
    archive = tmp_path / "shop-1.0.0.tar.gz"
    archive.write_bytes(b"not really an archive")
    for name in ("shop-1.0.0.sigstore.json", "shop-1.0.0.tar.gz.sigstore.json"):
        (tmp_path / name).write_text(DEEP_JSON)
    code = main(["verify", str(archive), "--repo", "acme/shop"])
    captured = capsys.readouterr()
    assert code in (1, 2)
    assert captured.err.startswith("relkit: error: ")
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    "compose",
    [
        f"services:\n  web:\n    image: {DEEP_FLOW}\n",
        "services:\n  web:\n    image: nginx\n" + ALIAS_BOMB.replace("image:", "x-image:"),
    ],
    ids=["deep", "alias-bomb"],
)
def test_hostile_compose_file(compose: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_compose(compose, "compose.yaml", {})
    assert str(info.value).startswith("compose.yaml: ")
    assert info.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    "values", [ALIAS_BOMB, f"image:\n  digest: {DEEP_FLOW}\n"], ids=["alias-bomb", "deep"]
)
def test_hostile_gitops_values_file(values: str) -> None:
    edit = PromoteEdit(file="apps/shop/values.yaml", key="image.digest")
    with pytest.raises(DocumentError) as info:
        apply_edit(values, edit, "sha256:" + "1" * 64)
    assert str(info.value).startswith("apps/shop/values.yaml: ")


def test_an_ordinary_values_file_with_anchors_still_edits() -> None:
    values = "base: &base {tag: '1'}\nimage:\n  <<: *base\n  digest: sha256:0\n"
    edit = PromoteEdit(file="values.yaml", key="image.digest")
    result = apply_edit(values, edit, "sha256:" + "1" * 64)
    assert result.text == values.replace("sha256:0", "sha256:" + "1" * 64)


def test_hostile_chart_and_version_files() -> None:
    with pytest.raises(RelkitError, match=r"^Chart\.yaml: YAML aliases expand"):
        set_chart_versions("name: web\n" + ALIAS_BOMB, version="1.0.0", app_version=None)
    with pytest.raises(RelkitError, match="nested deeper"):
        bump_yaml_key(f"version: 1\nx: {DEEP_FLOW}\n", "version", "2", filename="v.yaml")
    with pytest.raises(RelkitError, match=r"^version file p\.toml: nested deeper"):
        bump_toml_key(
            'version = "1"\nx = ' + "[" * 20_000 + "]" * 20_000, "version", "2", filename="p.toml"
        )


def test_deep_manifest_is_one_line() -> None:
    manifest = Manifest(
        reference=Reference.parse("localhost:5000/acme/web:1"),
        media_type="application/vnd.oci.image.manifest.v1+json",
        digest="sha256:" + "0" * 64,
        content=('{"layers": ' + DEEP_JSON + "}").encode(),
    )
    with pytest.raises(DocumentError, match="manifest of .*: nested deeper than 100 levels"):
        _ = manifest.json
    ok = Manifest(
        reference=manifest.reference,
        media_type=manifest.media_type,
        digest=manifest.digest,
        content=json.dumps({"schemaVersion": 2, "layers": []}).encode(),
    )
    assert ok.json["layers"] == []


def test_deep_sigstore_bundle_for_attestations() -> None:
    with pytest.raises(DocumentError, match=r"^shop\.att: Sigstore bundle: nested deeper"):
        parse_bundle_json('{"mediaType": ' + DEEP_JSON + "}", "shop.att")


def test_deep_referrers_index_on_the_registry(registry: RegistryServer) -> None:
    # Anyone who can push to the repository can write its referrers tag (the tag schema).
    repository = f"hostile/{secrets.token_hex(4)}"
    digest = push_test_image(registry.host, repository, "1.0.0")
    subject = Reference(registry.host, repository, None, digest)
    deep = "[" * 3000 + "]" * 3000  # under the registry's own JSON depth limit, over ours
    index = f'{{"schemaVersion": 2, "mediaType": "{OCI_INDEX}", "manifests": [], "x": {deep}}}'
    with RegistryClient() as client:
        client.push_manifest(
            Reference(registry.host, repository, referrers_tag(digest)), index.encode(), OCI_INDEX
        )
        # The registry client refuses it when it reads the index's manifest (any manifest is
        # depth-checked there), before the referrers code parses it.
        with pytest.raises(DocumentError, match=r"manifest of .* nested deeper than 100"):
            list_referrers(client, subject)


def test_non_utf8_gitops_file_is_one_line(make_repo: MakeRepo, tmp_path: Path) -> None:
    gitops = make_repo([{"commit": "chore: init", "files": {"apps/values.yaml": "a: 1\n"}}])
    (gitops.path / "apps" / "values.yaml").write_bytes(b"image:\n  tag: caf\xe9\n")
    subprocess.run(["git", "commit", "-qam", "chore: latin-1"], cwd=gitops.path, check=True)
    repo = GitOpsRepo(str(gitops.path), tmp_path / "clone")
    repo.clone("main")
    with pytest.raises(DocumentError, match=r"^apps/values\.yaml: not UTF-8 text \(byte 0xe9"):
        repo.read("apps/values.yaml")


def test_deep_oidc_token_response_is_one_line() -> None:
    # GitHub Actions' OIDC token service (a fake: GitHub cannot run here) answering junk.
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = ('{"value": ' + DEEP_JSON + "}").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        env = {
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{server.server_address[1]}/t",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runtime-bearer",
        }
        with pytest.raises(RelkitError, match="^GitHub Actions OIDC token service sent no token$"):
            github_actions_token(env)
    finally:
        server.shutdown()
        server.server_close()
