"""`python -m scraper` runs the command-line interface."""

from .cli import cli

# Guarded: extraction worker processes (forkserver/spawn) import the main module again.
if __name__ == "__main__":
    cli()
