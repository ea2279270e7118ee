"""Sign release files as `signing.mode` says, and verify them: the one door to signing.

    sign_file(path, config.signing, env=os.environ)   ->  path.sig | path.sigstore.json | None

`key`      ECDSA P-256 / SHA-256 with a PEM key from `signing.key_file` or the environment
           variable `signing.key_env` (password from `signing.key_password_env`); writes
           `X.sig` (base64 DER signature, as `cosign sign-blob --key` does).
`keyless`  Sigstore with an explicit OIDC token or the GitHub Actions ambient one; writes
           `X.sigstore.json` (Sigstore bundle v0.3).
`none`     nothing is signed.

The signature file is written next to the input, atomically, so a crash never leaves a
truncated signature that a later idempotency check would mistake for a finished one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Protocol

from relkit.core.config import SigningConfig
from relkit.core.errors import ConfigError, RelkitError
from relkit.core.records import record
from relkit.signing.ambient import github_actions_token
from relkit.signing.identity import (
    DEFAULT_RELEASE_WORKFLOW,
    GITHUB_ACTIONS_ISSUER,
    VerifiedIdentity,
    release_workflow_identity,
    release_workflow_identity_regexp,
)
from relkit.signing.keyless import sign_blob_keyless, verify_blob_keyless
from relkit.signing.keys import (
    generate_key_pair,
    public_key_pem,
    sign_blob_with_key,
    verify_blob_with_key,
)

__all__ = [
    "DEFAULT_RELEASE_WORKFLOW",
    "GITHUB_ACTIONS_ISSUER",
    "KEYLESS_SUFFIX",
    "KEY_SUFFIX",
    "KeySigner",
    "KeylessSigner",
    "Signer",
    "VerifiedIdentity",
    "generate_key_pair",
    "public_key_pem",
    "release_workflow_identity",
    "release_workflow_identity_regexp",
    "sign_blob_keyless",
    "sign_blob_with_key",
    "sign_file",
    "signer_for",
    "verify_blob_keyless",
    "verify_blob_with_key",
]

KEY_SUFFIX = ".sig"
KEYLESS_SUFFIX = ".sigstore.json"


class Signer(Protocol):
    """Makes the signature file content for a file; `suffix` names the signature file."""

    @property
    def suffix(self) -> str: ...

    def sign(self, path: Path) -> bytes: ...


@record
class KeySigner:
    # repr=False: a dataclass repr would otherwise print the key into logs and tracebacks.
    private_key_pem: bytes = field(repr=False)
    password: bytes | None = field(default=None, repr=False)
    suffix: str = KEY_SUFFIX

    def sign(self, path: Path) -> bytes:
        return sign_blob_with_key(path, self.private_key_pem, self.password)


@record
class KeylessSigner:
    identity_token: str | None = field(repr=False)
    trust_config: Path | None = None
    suffix: str = KEYLESS_SUFFIX

    def sign(self, path: Path) -> bytes:
        bundle = sign_blob_keyless(
            path, identity_token=self.identity_token, trust_config=self.trust_config
        )
        return bundle.encode("utf-8")


def _read_key(config: SigningConfig, env: Mapping[str, str]) -> bytes:
    if config.key_file:
        key_path = Path(config.key_file).expanduser()
        try:
            return key_path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"signing.key_file {config.key_file}: cannot read it ({exc.strerror})",
                hint="point signing.key_file at a PEM EC P-256 private key",
            ) from None
    key = env.get(config.key_env, "")
    if not key.strip():
        raise RelkitError(
            f"signing.mode is 'key' but the environment variable {config.key_env} is not set",
            hint=f"put the PEM private key in {config.key_env} or set signing.key_file",
        )
    # A PEM pasted into a CI secret often arrives with literal "\n" instead of newlines.
    return key.replace("\\n", "\n").encode("utf-8")


def signer_for(
    config: SigningConfig,
    *,
    env: Mapping[str, str],
    trust_config: Path | None = None,
    identity_token: str | None = None,
) -> Signer | None:
    """The signer `config.mode` asks for, with its key or token resolved; None for 'none'."""
    if config.mode == "none":
        return None
    if config.mode == "key":
        password_text = env.get(config.key_password_env) or None
        password = password_text.encode("utf-8") if password_text else None
        key = _read_key(config, env)
        # Load it now: a bad key or password fails before anything is built or published.
        public_key_pem(key, password)
        return KeySigner(key, password)
    token = identity_token or github_actions_token(env)
    return KeylessSigner(token, trust_config)


def _write_atomically(target: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sign_file(
    path: Path,
    config: SigningConfig,
    *,
    env: Mapping[str, str],
    trust_config: Path | None = None,
    identity_token: str | None = None,
) -> Path | None:
    """Sign `path` per `config.mode`; write and return the signature file (None: not signed)."""
    if not path.is_file():
        raise RelkitError(f"cannot sign {path}: no such file")
    signer = signer_for(config, env=env, trust_config=trust_config, identity_token=identity_token)
    if signer is None:
        return None
    target = path.with_name(path.name + signer.suffix)
    _write_atomically(target, signer.sign(path))
    return target
