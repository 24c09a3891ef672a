"""Fuzzing with atheris (libFuzzer): the container parser, the decode path, the image loader.

Modules: ``mutators`` (structure-aware mutation below the CRCs), ``targets`` (what is called on
each input and which errors are allowed), ``stats`` (counters), ``worker`` (one atheris
process), ``campaign`` (budgets, restarts, hang/crash accounting), ``report`` (JSON and
Markdown in eval/reports/fuzz/) and the entry point ``python -m eval.fuzz``. The package does
not import neuralcodec itself: the worker imports it under atheris's coverage instrumentation.
"""

__all__: list[str] = []
