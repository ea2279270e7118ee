"""One module per `relkit` sub-command; each exposes `register(subparsers)`."""
