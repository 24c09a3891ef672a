"""The optimisation step every codec training module shares: network, then entropy-bottleneck quantiles."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch import Tensor

from neuralcodec.models import CodecModel

__all__ = ["codec_parameters", "step_codec"]


def codec_parameters(model: CodecModel) -> tuple[list[torch.nn.Parameter], list[torch.nn.Parameter]]:
    """The trainable parameters, split into the network's and the quantiles' (aux loss only)."""
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    net = [p for n, p in trainable if not n.endswith(".quantiles")]
    aux = [p for n, p in trainable if n.endswith(".quantiles")]
    return net, aux


def step_codec(
    module: pl.LightningModule,
    model: CodecModel,
    loss: Tensor,
    net_opt: pl.core.optimizer.LightningOptimizer,
    aux_opt: pl.core.optimizer.LightningOptimizer,
    clip_norm: float,
) -> Tensor:
    """One manual-optimisation step of ``loss`` (clipped) and of the aux loss; returns the aux loss."""
    net_opt.zero_grad()
    module.manual_backward(loss)
    module.clip_gradients(net_opt, gradient_clip_val=clip_norm)
    net_opt.step()
    aux_loss = model.aux_loss()
    aux_opt.zero_grad()
    module.manual_backward(aux_loss)
    # The raw optimizer, so that global_step (and max_steps) counts batches, not 2x batches.
    aux_opt.optimizer.step()
    return aux_loss
