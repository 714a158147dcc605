"""Allow ``python -m mlscaffold``."""

from mlscaffold.cli import main

main(prog_name="mlscaffold")
