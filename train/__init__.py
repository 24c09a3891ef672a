"""Training with PyTorch Lightning: ``codec/`` (the codecs), ``encoders/`` (smaller ``g_a``
variants), ``heads/`` (task heads on the latents); recipes in ``configs/*.yaml``."""

__all__: list[str] = []
