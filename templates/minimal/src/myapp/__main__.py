"""`python -m myapp`: the command line (see cli.py)."""

from myapp.cli import main

raise SystemExit(main())
