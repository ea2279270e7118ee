"""Fakes for services that cannot run here; each behaves like the real service, errors included."""
