"""Restoring a codec from a Lightning checkpoint, shared by every training module."""

from __future__ import annotations

from neuralcodec.models import CodecModel

__all__ = ["MODEL_PREFIX", "restore_model"]

#: Training modules hold their codec as ``self.model``.
MODEL_PREFIX = "model."


def restore_model(model: CodecModel, checkpoint: dict) -> None:
    """Load the codec's weights from a checkpoint, CDF tables included.

    Checkpoints carry the CDF tables built at validation, which a fresh model holds as empty
    buffers; compressai's ``load_state_dict`` resizes them before Lightning loads the rest.
    """
    state = {
        k[len(MODEL_PREFIX) :]: v
        for k, v in checkpoint["state_dict"].items()
        if k.startswith(MODEL_PREFIX)
    }
    model.load_state_dict(state, strict=True)
