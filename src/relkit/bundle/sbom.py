"""The bundle's SBOM: a CycloneDX 1.6 JSON document built with cyclonedx-python-lib.

What it lists: the bundle itself as the described component (name, release version, the
source commit as its pedigree), every pinned image as a `container` component whose purl
is `pkg:oci/NAME@sha256:…?repository_url=HOST/PATH&tag=TAG` (the purl spec's OCI type),
and every file of the bundle with its SHA-256 (from the bundle's SHA256SUMS).

Deterministic on purpose: the serial number is a UUIDv5 of the archive digest, the
timestamp is the tagged commit's time and every bom-ref is derived from content, so
re-running a release produces the same SBOM byte for byte.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Commit, Component, ComponentType, Pedigree
from cyclonedx.model.dependency import Dependency
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from relkit.adapters.registry import Reference
from relkit.core.model import ImagePin

__all__ = ["SBOM_MEDIA_TYPE", "SBOM_SUFFIX", "bundle_sbom", "image_purl"]

SBOM_MEDIA_TYPE = "application/vnd.cyclonedx+json"
SBOM_SUFFIX = ".cdx.json"

# Fixed namespace so the serial number is a pure function of the archive digest.
_SERIAL_NAMESPACE = uuid.UUID("6f1b0e8e-3d4a-5c2b-9a7e-2f0c1d9b8a11")


def image_purl(pin: ImagePin) -> PackageURL:
    """`pkg:oci/NAME@sha256:…?repository_url=HOST/PATH&tag=TAG` for a pinned image."""
    ref = Reference.parse(pin.reference)
    qualifiers = {"repository_url": ref.name}
    if ref.tag:
        qualifiers["tag"] = ref.tag
    return PackageURL(
        type="oci",
        name=ref.repository.rsplit("/", 1)[-1],
        version=pin.digest,
        qualifiers=qualifiers,
    )


def bundle_sbom(
    *,
    name: str,
    version: str,
    commit: str,
    repository: str | None,
    archive_digest: str,
    created: datetime,
    pins: Sequence[ImagePin],
    files: Mapping[str, str],
) -> str:
    """The CycloneDX 1.6 JSON text for a bundle; `files` maps path → sha256 hex."""
    root_ref = f"bundle:{name}@{version}"
    commit_url = f"https://github.com/{repository}/commit/{commit}" if repository else None
    root = Component(
        type=ComponentType.APPLICATION,
        name=name,
        version=version,
        bom_ref=root_ref,
        hashes=[
            HashType(alg=HashAlgorithm.SHA_256, content=archive_digest.removeprefix("sha256:"))
        ],
        pedigree=Pedigree(
            commits=[Commit(uid=commit, url=XsUri(commit_url) if commit_url else None)]
        ),
        external_references=(
            [
                ExternalReference(
                    type=ExternalReferenceType.VCS, url=XsUri(f"https://github.com/{repository}")
                )
            ]
            if repository
            else []
        ),
    )
    bom = Bom(serial_number=uuid.uuid5(_SERIAL_NAMESPACE, archive_digest))
    bom.metadata.timestamp = created
    bom.metadata.component = root
    components: list[Component] = []
    # Two services may run the same image: one component per (reference, digest).
    unique = {(pin.reference, pin.digest): pin for pin in pins}
    for _, pin in sorted(unique.items()):
        purl = image_purl(pin)
        components.append(
            Component(
                type=ComponentType.CONTAINER,
                name=Reference.parse(pin.reference).name,
                version=pin.digest,
                purl=purl,
                bom_ref=purl.to_string(),
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=pin.digest.split(":", 1)[1])],
            )
        )
    for path, sha in sorted(files.items()):
        components.append(
            Component(
                type=ComponentType.FILE,
                name=path,
                bom_ref=f"file:{path}",
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha)],
            )
        )
    for component in components:
        bom.components.add(component)
    # The graph is built directly: Bom.register_dependency searches the graph linearly per
    # call, quadratic in the number of components (seconds for a thousand files).
    bom.dependencies.add(
        Dependency(ref=root.bom_ref, dependencies=[Dependency(ref=c.bom_ref) for c in components])
    )
    bom.dependencies.update(Dependency(ref=c.bom_ref) for c in components)
    with warnings.catch_warnings():
        # The library warns about incomplete dependency graphs of components we list as
        # leaves on purpose (images and files have no dependencies we could know).
        warnings.simplefilter("ignore", UserWarning)
        return JsonV1Dot6(bom).output_as_string(indent=2) + "\n"
