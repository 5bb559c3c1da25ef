"""`python -m riso`: the same as the `riso` command."""

from riso.cli import main

main()
