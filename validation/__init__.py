"""Pattern-oriented validation, calibration and sensitivity analysis -> docs/VALIDATION.md.

Built on the batch machinery of ``experiments``: every simulation runs through the same
runner and verified results store. :mod:`validation.pipeline` regenerates the report
(``lifecircle validation`` or ``python -m validation``).
"""
