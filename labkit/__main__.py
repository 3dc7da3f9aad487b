"""`python -m labkit` runs the `labkit` command."""

from labkit.cli import main

main()
