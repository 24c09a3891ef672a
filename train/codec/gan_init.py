"""Start a GAN codec from trained hyperprior weights.

Everything but the gains is copied: the encoder side as it is, the hyperprior's g_s into the
generator's synthesis stack (its residual trunk starts at identity, so the generator starts as
the MSE decoder). The GAN codec's quality levels lie below the
hyperprior's quality 1, so each level's gains start from the hyperprior's lowest level scaled
by sqrt(λ / λ_1), the step-size rule the gains were initialised with (``registry.GAN_LAMBDAS``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from neuralcodec.models import GenerativeHyperprior

__all__ = ["from_hyperprior_state"]

_GAINS = ("log_gain", "log_inv_gain")


def from_hyperprior_state(
    model: GenerativeHyperprior,
    state: dict[str, Tensor],
    hyperprior_lambdas: tuple[float, ...],
    lambdas: tuple[float, ...],
) -> None:
    """Load a hyperprior's state dict into ``model`` (in place); g_s goes to ``g_s.upsample``.

    Args:
        model: The GAN codec, same N and M as the hyperprior.
        state: The hyperprior's state dict (e.g. its shipped safetensors).
        hyperprior_lambdas: λ of the hyperprior's levels.
        lambdas: λ of the GAN codec's levels.

    Raises:
        RuntimeError: The shared layers do not match (other N or M).
    """
    shared = {k: v for k, v in state.items() if not k.startswith("g_s.") and k not in _GAINS}
    synthesis = {f"g_s.upsample.{k[4:]}": v for k, v in state.items() if k.startswith("g_s.")}
    trunk = {k: v for k, v in model.state_dict().items() if k.startswith("g_s.trunk.")}
    offsets = torch.tensor([0.5 * math.log(lmbda / hyperprior_lambdas[0]) for lmbda in lambdas])
    gains = {
        "log_gain": state["log_gain"][:1] + offsets[:, None],  # (Q, M)
        "log_inv_gain": state["log_inv_gain"][:1] - offsets[:, None],
    }
    model.load_state_dict({**shared, **synthesis, **trunk, **gains}, strict=True)
