"""Which release a bundle archive is: every name it goes by must tell the same version.

A signature says who built the bytes, not which release a self-hoster asked for: renamed
to `shop-1.0.1.tar.gz`, the signed `shop-1.0.0.tar.gz` would verify and roll them back to
1.0.0 (issue 9 §3). The archive knows its own version (its single top directory is
`NAME-VERSION/`); the file name, the registry tag it was pulled by and, for a keyless
signature, the tag whose release run signed it must all agree with it.
"""

from __future__ import annotations

import re

from relkit.core.errors import RelkitError
from relkit.core.model import Version
from relkit.core.records import record

__all__ = ["ArchiveVersion", "archive_version", "check_names_agree", "tag_names_version"]

_SEMVER_START = re.compile(r"-(?=\d+\.\d+\.\d+)")


@record
class ArchiveVersion:
    """The bundle name and version an archive's top directory `NAME-VERSION` declares."""

    name: str
    version: str

    @property
    def top(self) -> str:
        return f"{self.name}-{self.version}"


def archive_version(top: str, source: str) -> ArchiveVersion:
    """Split `NAME-VERSION` at the first `-` that starts a semantic version."""
    for match in _SEMVER_START.finditer(top):
        name, version = top[: match.start()], top[match.end() :]
        if name and Version.is_valid(version) and not version.startswith(("v", "V")):
            return ArchiveVersion(name, version)
    raise RelkitError(
        f"{source}: top directory {top!r} does not name a version (NAME-VERSION)",
        hint="relkit bundles unpack to NAME-VERSION/",
    )


def tag_names_version(tag: str, version: str) -> bool:
    """`v1.2.0`, `1.2.0`, `shop-v1.2.0`, `shop/1.2.0` name 1.2.0; `v1.2.0-rc.1` does not."""
    return re.fullmatch(rf"(?:.*[-/_@])?[vV]?{re.escape(version)}", tag) is not None


def check_names_agree(
    found: ArchiveVersion,
    *,
    file_name: str,
    certificate_tag: str | None = None,
    registry_tag: str | None = None,
    expected_tag: str | None = None,
) -> str:
    """Raise unless every name agrees with the archive's own version; say which agreed.

    `expected_tag` is the release the self-hoster asked for (`--tag`), whatever the signer.
    """
    expected_file = f"{found.top}.tar.gz"
    if file_name != expected_file:
        raise RelkitError(
            f"{file_name} holds {found.top}/: the file name and the archive's own version"
            " disagree (a renamed archive is refused)",
            hint=f"if {found.version} is the version you want, name the file {expected_file}",
        )
    agreed = ["file name", "top directory"]
    candidate = (registry_tag or "").replace("_", "+")  # OCI tags cannot hold a '+'
    if registry_tag is not None and Version.is_valid(candidate):
        # Only a tag that is a version can disagree; `latest` says nothing about which.
        if candidate.lstrip("vV") != found.version:
            raise RelkitError(
                f"the registry tag {registry_tag} holds {found.top}: the tag and the archive's"
                " own version disagree",
                hint="the registry served another release than the one asked for",
            )
        agreed.append(f"registry tag {registry_tag}")
    if certificate_tag is not None:
        if not tag_names_version(certificate_tag, found.version):
            raise RelkitError(
                f"{file_name} was signed by the release run for tag {certificate_tag}, but it"
                f" holds {found.version}",
                hint="the signature belongs to another release",
            )
        agreed.append(f"signing certificate's tag {certificate_tag}")
    if expected_tag is not None:
        if not tag_names_version(expected_tag, found.version):
            raise RelkitError(
                f"{file_name} holds {found.version}, not the release {expected_tag} asked for",
                hint="download the bundle of the release you want",
            )
        agreed.append(f"--tag {expected_tag}")
    return f"version: {found.name} {found.version} ({', '.join(agreed)} agree)"
