"""Synthetic labelled data per kind, in the layout of the kind's data/sample/: the bundled
samples (written into the templates by scripts/make_*_sample*.py) and the grader's fresh
held-out data (mlscaffold.cohort.fresh) come from the same code. Standard library only: the
grader's own process has no numpy."""
