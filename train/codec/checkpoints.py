"""Restoring a codec from a Lightning checkpoint, shared by every training module."""

from __future__ import annotations

from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from compressai.models.utils import update_registered_buffers

from neuralcodec.models import CodecModel

__all__ = ["MODEL_PREFIX", "AVERAGE_PREFIX", "restore_model"]

#: Training modules hold their codec as ``self.model``.
MODEL_PREFIX = "model."
#: ... and its weight average (``train.codec.optim.WeightAverage``) as ``self.average``, if any.
AVERAGE_PREFIX = "average.model."
#: The CDF tables of each entropy model; their sizes follow the learned densities.
_CDF_TABLES: dict[type, tuple[str, ...]] = {
    EntropyBottleneck: ("_quantized_cdf", "_offset", "_cdf_length"),
    GaussianConditional: ("_quantized_cdf", "_offset", "_cdf_length", "scale_table"),
}


def restore_model(
    model: CodecModel, checkpoint: dict, prefix: str = MODEL_PREFIX, strict: bool = True
) -> None:
    """Load the codec's weights (those under ``prefix``) from a checkpoint, CDF tables included.

    With ``strict=False`` the model's parameters that the checkpoint lacks keep their values
    (a checkpoint of a codec with fewer modules); tensors the model lacks are still an error.

    The checkpoint's CDF tables (built at its last validation) rarely have the sizes of the
    model's own: a fresh model holds empty ones, and a model started from a weight file holds
    that file's. compressai's ``load_state_dict`` resizes only empty tables, so every table is
    resized to the checkpoint's first.
    """
    state = {
        k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)
    }
    if not state:
        raise KeyError(f"the checkpoint holds no weights under {prefix!r}")
    for name, module in model.named_modules():
        tables = next((t for kind, t in _CDF_TABLES.items() if isinstance(module, kind)), ())
        if tables and f"{name}.{tables[0]}" in state:
            update_registered_buffers(module, name, list(tables), state, policy="resize")
    if not strict:
        state = {**model.state_dict(), **state}
    model.load_state_dict(state, strict=True)
