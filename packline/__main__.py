"""`python -m packline` is the `packline` command."""

from packline.cli import main

raise SystemExit(main())
