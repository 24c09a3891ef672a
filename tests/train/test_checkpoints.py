"""Restoring a codec from a checkpoint whose CDF tables differ in size from the model's."""

from __future__ import annotations

import torch

from neuralcodec_testing import make_tiny_model
from train.codec.checkpoints import MODEL_PREFIX, restore_model


def test_a_model_with_other_cdf_tables_takes_the_checkpoints() -> None:
    """As when a run started from a weight file resumes from its own checkpoint."""
    model = make_tiny_model(seed=0)  # baked tables, as loaded from --model.init_weights
    trained = make_tiny_model(seed=1)
    with torch.no_grad():  # wider quantile range -> longer CDF tables
        trained.entropy_bottleneck.quantiles[:, :, 0] -= 20.0
        trained.entropy_bottleneck.quantiles[:, :, 2] += 20.0
    trained.update(force=True)
    key = "entropy_bottleneck._quantized_cdf"
    assert model.state_dict()[key].shape != trained.state_dict()[key].shape
    checkpoint = {"state_dict": {MODEL_PREFIX + k: v for k, v in trained.state_dict().items()}}
    restore_model(model, checkpoint)
    for name, value in trained.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name
