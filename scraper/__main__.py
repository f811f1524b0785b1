"""`python -m scraper` runs the command-line interface."""

from .cli import cli

cli()
