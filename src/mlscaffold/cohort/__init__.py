"""Cohort mode: one assignment handed to many students, generated, graded and updated together.

An assignment folder (`cohort init`) holds `cohort.yml` (kind, locked answers, pinned
template version), `roster.csv` and `grading/` (rubric, hidden tests, hidden data). The
bulk commands work on a folder of student repositories, one at a time per worker, each
surviving the others' failures, and can be re-run safely.
"""
