from relkit.cli import main

raise SystemExit(main())
