"""One TLS context per process, shared by every HTTP client relkit makes.

httpx builds a new `ssl.SSLContext` for each client it creates, and each one parses
certifi's CA bundle: ~19 ms of CPU. githubkit makes a client per request and relkit a
registry client per step, so one `relkit release` parsed the bundle 27 times (0.5 s of its
~1 s of CPU after imports, issue 17). An `SSLContext` is made to be shared between
connections and threads; this one is built the way httpx builds its default (the
`SSL_CERT_FILE` or `SSL_CERT_DIR` it names, else certifi's bundle), once per set of those
variables.
"""

from __future__ import annotations

import functools
import os
import ssl

__all__ = ["shared_ssl_context"]


def shared_ssl_context() -> ssl.SSLContext:
    """The verifying context httpx would make by default, built once for this process."""
    return _context(os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)


@functools.cache
def _context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    if cert_file is not None:
        return ssl.create_default_context(cafile=cert_file)
    if cert_dir is not None:
        return ssl.create_default_context(capath=cert_dir)
    import certifi  # httpx's own dependency, read only when a client is made

    return ssl.create_default_context(cafile=certifi.where())
