"""Benchmarks and reports (see eval/README.md); ``python -m eval list|all`` runs every study.

- ``rd/``: the rate-distortion benchmark (``python -m eval.rd``) and what it is built from.
- ``studies/``: one study per module, each its own entry point (``python -m eval.studies.NAME``)
  writing its report under ``eval/reports/``.
- ``fuzz/``: atheris fuzzing of the decoder and image loader (``python -m eval.fuzz``).
- ``reports/``: what they wrote (data, not code).
"""

__all__: list[str] = []
