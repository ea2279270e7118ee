"""The README's main-job demo (`scripts/demo`)."""
