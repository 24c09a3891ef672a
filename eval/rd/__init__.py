"""The rate-distortion benchmark: ``python -m eval.rd --dataset kodak`` (the CLI is ``__main__``).

``codecs`` (the codecs and the metrics), ``datasets`` (which images), ``results`` (CSV and
CompressAI-shaped JSON, the published anchors), ``bdrate``, ``plot``, ``crops`` (matched-rate
crops) and ``report`` (plots, BD-rate table, ``report.md``; ``python -m eval.rd.report``
rebuilds it from JSON).
"""

__all__: list[str] = []
