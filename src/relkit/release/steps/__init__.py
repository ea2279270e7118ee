"""Publish steps, one module per step; each looks at remote state, acts, and records."""
