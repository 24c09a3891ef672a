"""Exact fixed-point evaluation of the hyper-synthesis transform, identical on every device.

The hyper-synthesis output selects the entropy model (scale index) and the mean of every
latent. If the encoder and the decoder compute it differently by one ulp, a scale can land in
another bin and the rANS decoder desynchronises (a GPU-encoded file decoded on a CPU then turns
to garbage). Following Ballé et al. 2019 ("Integer networks for data compression"), this
module evaluates a trained float network in integer arithmetic:

* weights are ``round(w * 2**WEIGHT_BITS)``; activations are integers at scale
  ``2**ACTIVATION_BITS``; biases are at scale ``2**(WEIGHT_BITS + ACTIVATION_BITS)``;
* a convolution is an explicit im2col followed by a matrix product in float64. Every operand
  and every partial sum is an integer of magnitude below 2**53, so each IEEE float64 addition
  and multiplication is exact, whatever the summation order, blocking, FMA use or thread
  count of the BLAS (CPU or cuBLAS). The bound is checked when the network is built;
* after each convolution the accumulator is rescaled by a power of two and rounded half up
  (``floor(a / 2**WEIGHT_BITS + 0.5)``): exact operations on exact integers;
* ReLU and PixelShuffle are comparisons and permutations: exact.

Winograd or FFT convolutions would break the argument, which is why ``F.conv2d`` is not used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["WEIGHT_BITS", "ACTIVATION_BITS", "FixedPointNetwork"]

WEIGHT_BITS = 14
ACTIVATION_BITS = 10
#: Real-valued clamps that keep every integer inside the exact float64 range.
WEIGHT_LIMIT = 8.0
ACTIVATION_LIMIT = 2.0**11
BIAS_LIMIT = 2.0**10
_EXACT_LIMIT = 2.0**53


def _check_exact(conv: nn.Conv2d) -> None:
    fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
    worst = (
        fan_in * (WEIGHT_LIMIT * 2**WEIGHT_BITS) * (ACTIVATION_LIMIT * 2**ACTIVATION_BITS)
        + BIAS_LIMIT * 2 ** (WEIGHT_BITS + ACTIVATION_BITS)
    )
    if worst >= _EXACT_LIMIT:
        raise ValueError(f"{conv} has fan-in {fan_in}: too large for exact float64 sums")
    if conv.stride != (1, 1) or conv.dilation != (1, 1) or conv.groups != 1:
        raise ValueError(f"{conv}: only stride-1, undilated, ungrouped convolutions")
    if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        raise ValueError(f"{conv}: only explicit zero padding")


def _conv(weight: Tensor, bias: Tensor, padding: tuple[int, int], x: Tensor) -> Tensor:
    """Integer convolution of integer-valued float64 tensors, exact by construction.

    The output is clamped to the activation range that :func:`_check_exact` assumes.
    """
    n, _, h, w = x.shape
    out_ch, _, kh, kw = weight.shape
    out_h = h + 2 * padding[0] - kh + 1
    out_w = w + 2 * padding[1] - kw + 1
    cols = F.unfold(x, (kh, kw), padding=padding)  # (N, C*kh*kw, L)
    acc = weight.reshape(out_ch, -1) @ cols + bias[:, None]  # (N, out_ch, L)
    out = torch.floor(acc / 2**WEIGHT_BITS + 0.5).reshape(n, out_ch, out_h, out_w)
    limit = ACTIVATION_LIMIT * 2**ACTIVATION_BITS
    return out.clamp(-limit, limit)


class FixedPointNetwork:
    """An integer-exact copy of a float ``nn.Sequential`` of Conv2d / ReLU / PixelShuffle.

    The integer weights are derived from the float ones by exact operations (scaling by a power
    of two, clamping, rounding), so they are the same on every device and need not be stored.

    Args:
        network: The trained float network; it is read once, at construction.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU())
        >>> FixedPointNetwork(net)(torch.zeros(1, 4, 5, 5)).shape
        torch.Size([1, 8, 5, 5])
    """

    def __init__(self, network: nn.Module) -> None:
        self._layers: list[Callable[[Tensor], Tensor]] = []
        for module in _leaves(network):
            if isinstance(module, nn.Conv2d):
                _check_exact(module)
                self._layers.append(functools.partial(_conv, *_integer_params(module)))
            elif isinstance(module, nn.ReLU):
                self._layers.append(_relu)
            elif isinstance(module, nn.PixelShuffle):
                self._layers.append(
                    functools.partial(F.pixel_shuffle, upscale_factor=module.upscale_factor)
                )
            else:
                raise TypeError(f"{type(module).__name__} has no exact fixed-point version")

    def __call__(self, x: Tensor) -> Tensor:
        """Evaluate on a float input; the result is a multiple of 2**-ACTIVATION_BITS.

        Args:
            x: Input (N, C, H, W). Rounded to the fixed-point grid first.

        Returns:
            float32 output, bit-identical on every device and thread count.
        """
        a = torch.round(x.double() * 2**ACTIVATION_BITS)
        for layer in self._layers:
            a = layer(a)
        # |a| <= 2**21 so the float32 cast is exact.
        out: Tensor = (a / 2**ACTIVATION_BITS).float()
        return out


def _relu(a: Tensor) -> Tensor:
    return a.clamp(min=0)


def _leaves(module: nn.Module) -> list[nn.Module]:
    children = list(module.children())
    if not children:
        return [module]
    return [leaf for child in children for leaf in _leaves(child)]


def _integer_params(conv: nn.Conv2d) -> tuple[Tensor, Tensor, tuple[int, int]]:
    weight = conv.weight.detach().double().clamp(-WEIGHT_LIMIT, WEIGHT_LIMIT)
    if conv.bias is None:
        bias = torch.zeros(conv.out_channels, dtype=torch.float64, device=weight.device)
    else:
        bias = conv.bias.detach().double().clamp(-BIAS_LIMIT, BIAS_LIMIT)
    weight_int = torch.round(weight * 2**WEIGHT_BITS)
    bias_int = torch.round(bias * 2 ** (WEIGHT_BITS + ACTIVATION_BITS))
    padding = conv.padding
    assert isinstance(padding, tuple)
    return weight_int, bias_int, (int(padding[0]), int(padding[1]))
