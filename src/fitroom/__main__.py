"""``python -m fitroom`` runs the CLI."""

from fitroom.cli import main

main()
