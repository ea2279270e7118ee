"""Signing and verifying release artifacts: key-based (cosign-compatible) and Sigstore keyless.

`relkit.signing.facade` is the entry point the pipeline uses; the modules here each do
one job: `keys` (ECDSA P-256), `keyless` (sigstore-python), `identity` (who signed),
`ambient` (the GitHub Actions OIDC token).
"""

from __future__ import annotations

__all__: list[str] = []
