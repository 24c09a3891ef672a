"""Smaller encoders (``g_a``) for a trained codec: ``prune``, ``distill`` (with
``distill_module``), ``quantize`` (ONNX int8 / fp16) and ``export_encoder``."""

__all__: list[str] = []
