"""Rate-distortion benchmark of neuralcodec against classical codecs (see eval/README.md).

Modules: ``codecs`` (the codecs and the metrics), ``perceptual`` (offline LPIPS), ``datasets``,
``results`` (CSV and CompressAI-shaped JSON), ``bdrate``, ``plot``, ``crops``, ``report``, and
the entry points ``rd`` (``python -m eval.rd``) and ``speed`` (``python -m eval.speed``).
``determinism`` and ``model_card`` are separate tools that read or write their own reports.
"""

__all__: list[str] = []
