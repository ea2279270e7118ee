"""The only code that does I/O: git, registries, Helm, signing, GitHub."""
