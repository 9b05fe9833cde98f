"""`python -m sensoryprofile` runs the command-line interface."""

from sensoryprofile.cli import run

run()
