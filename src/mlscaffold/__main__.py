"""Allow ``python -m mlscaffold``."""

from mlscaffold.cli import main

main()
