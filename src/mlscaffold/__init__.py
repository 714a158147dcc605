"""mlscaffold: generate ML portfolio projects from versioned Copier templates."""

__version__ = "0.5.0"
