"""The self-host Compose bundle: pin images by digest, build a reproducible archive, sign,
publish as an OCI artifact, and verify/extract it on the self-hoster's side.

One module per job: `interpolate` (Compose variable syntax), `compose` (find and pin
`image:` values), `sums` (digests.txt / SHA256SUMS), `archive` (reproducible tar.gz),
`extract` (safe reading and unpacking), `build`, `publish` and `verify`.
"""

from __future__ import annotations

__all__: list[str] = []
