"""A release, one module per idea: the rules (``rules``), a cohort's document (``cohorts``),
a scope's view (``combine``), opening and counting answers (``opening``), the release run
and the tick (``run``), closed months (``closing``) and the purge (``purge``).
"""
