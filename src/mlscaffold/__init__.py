"""mlscaffold: generate ML portfolio projects from versioned Copier templates."""

__version__ = "0.4.0"
