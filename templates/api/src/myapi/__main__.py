"""`python -m myapi`: the command line (see cli.py)."""

from myapi.cli import main

raise SystemExit(main())
