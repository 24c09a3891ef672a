"""Rate-distortion benchmark of neuralcodec against classical codecs (see eval/README.md).

Modules: ``codecs`` (the codecs and the metrics), ``datasets``,
``results`` (CSV and CompressAI-shaped JSON), ``bdrate``, ``plot``, ``crops``, ``report``, and
the entry points ``rd`` (``python -m eval.rd``) and ``speed`` (``python -m eval.speed``).
``determinism`` and ``model_card`` are separate tools that read or write their own reports.
``fuzz`` (``python -m eval.fuzz``, atheris) fuzzes the decoder and image loader, and
``concurrency`` checks that one Codec shared by threads gives serial results.
"""

__all__: list[str] = []
