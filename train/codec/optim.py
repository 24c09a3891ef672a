"""What every codec training module shares: the optimisation step (network, then the entropy
bottleneck's quantiles), the learning-rate schedule and the weight average used for export."""

from __future__ import annotations

import copy
import math

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from neuralcodec.models import CodecModel

__all__ = ["codec_parameters", "step_codec", "scheduled_lr", "WeightAverage"]


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


def scheduled_lr(
    step: int,
    peak: float,
    warmup_steps: int = 0,
    cosine_steps: int | None = None,
    final_ratio: float = 0.01,
    drop_step: int | None = None,
) -> float:
    """The learning rate at ``step``: linear warm-up to ``peak``, then constant or a cosine decay.

    Args:
        step: Optimisation steps taken so far in this run.
        peak: Learning rate at the end of the warm-up.
        warmup_steps: Steps of the linear warm-up from ``peak / warmup_steps``.
        cosine_steps: If set, the rate follows a half cosine from ``peak`` at the end of the
            warm-up down to ``peak * final_ratio`` at this step, and stays there.
        final_ratio: End of the cosine, relative to ``peak``.
        drop_step: Without a cosine: the step from which the rate is ``peak / 10``.
    """
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    if cosine_steps is not None:
        progress = min(1.0, (step - warmup_steps) / max(1, cosine_steps - warmup_steps))
        return peak * (final_ratio + (1 - final_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
    if drop_step is not None and step >= drop_step:
        return peak * 0.1
    return peak


class WeightAverage(nn.Module):
    """An exponential moving average of a model's parameters, for export.

    Short, high-learning-rate runs end with noisy weights; their average over the last
    ``1 / (1 - decay)`` steps is a better codec without a decaying schedule, so a run can stop
    at any moment and still export good weights. Buffers (CDF tables) are not averaged: export
    rebuilds them.

    Args:
        model: The model being trained; the average starts as a copy of it.
        decay: Weight of the old average at each update.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        super().__init__()
        self.decay = decay
        self.model = copy.deepcopy(model).requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current parameters."""
        averaged = list(self.model.parameters())
        torch._foreach_lerp_(averaged, [p.detach() for p in model.parameters()], 1 - self.decay)
