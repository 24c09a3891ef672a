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

The integer weights of a convolution are derived once and kept on the ``nn.Conv2d`` itself
(:data:`_CACHE_ATTR`), with a copy of the float weights they came from. Every
:class:`FixedPointNetwork` built afterwards compares the module's current weights bit for bit
with that copy and derives them again on any difference: for the shipped h_s, 7 ms instead of
20 ms at one thread, for three times the float32 weights' bytes kept (54 MB). Version counters
would be cheaper still but miss writes through ``param.data``, which bypass them; a stale
integer weight would desynchronise every file coded after a reload, so only the content is
trusted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

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


def _conv(
    weight: Tensor, bias: Tensor, kernel_size: tuple[int, int], padding: tuple[int, int], x: Tensor
) -> Tensor:
    """Integer convolution of integer-valued float64 tensors, exact by construction.

    Args:
        weight: (out_ch, C * kh * kw) integer weights, in :func:`F.unfold`'s column order.
        bias: (out_ch, 1) integer biases.
        kernel_size: (kh, kw).
        padding: Zero padding (top/bottom, left/right).
        x: (N, C, H, W) integer activations.

    Returns:
        (N, out_ch, H', W'), clamped to the activation range that :func:`_check_exact` assumes.
    """
    n, _, h, w = x.shape
    kh, kw = kernel_size
    out_h = h + 2 * padding[0] - kh + 1
    out_w = w + 2 * padding[1] - kw + 1
    cols = F.unfold(x, kernel_size, padding=padding)  # (N, C*kh*kw, L)
    acc = weight @ cols  # (N, out_ch, L); a fresh tensor, so the steps below work in place
    # Each step maps exact integers (or halves) to exact values: adding integers < 2**53,
    # dividing by a power of two, adding 0.5 to a multiple of 2**-WEIGHT_BITS, floor.
    acc.add_(bias).div_(2**WEIGHT_BITS).add_(0.5).floor_()
    limit = ACTIVATION_LIMIT * 2**ACTIVATION_BITS
    return acc.reshape(n, -1, out_h, out_w).clamp_(-limit, limit)


class FixedPointNetwork:
    """An integer-exact copy of a float ``nn.Sequential`` of Conv2d / ReLU / PixelShuffle.

    The integer weights are derived from the float ones by exact operations (scaling by a power
    of two, clamping, rounding), so they are the same on every device and need not be stored.

    Args:
        network: The trained float network; it is read once, at construction (the integer
            weights are reused from an earlier construction when the float weights are
            bit-identical to the ones they were derived from).

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


#: Attribute of an ``nn.Conv2d`` that holds its :class:`_IntegerConv` (not a parameter or a
#: buffer: it is not saved, moved or cast with the module, and is rebuilt when stale).
_CACHE_ATTR = "_fixed_point_integer_conv"
#: Integer dtypes of each element size, to compare float tensors bit for bit.
_BIT_VIEWS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


class _IntegerConv(NamedTuple):
    """The integer parameters of a convolution and the float parameters they were derived from."""

    source_weight: Tensor  # a copy of conv.weight, compared bit for bit before reuse
    source_bias: Tensor | None  # a copy of conv.bias
    weight: Tensor  # (out_ch, C * kh * kw) float64 integers
    bias: Tensor  # (out_ch, 1) float64 integers


def _same_bits(current: Tensor | None, source: Tensor | None) -> bool:
    """Whether ``current`` still holds exactly the values copied into ``source``."""
    if current is None or source is None:
        return current is None and source is None
    if (current.dtype, current.device, current.shape) != (
        source.dtype,
        source.device,
        source.shape,
    ):
        return False
    bits = _BIT_VIEWS.get(current.element_size())
    if bits is None:
        return False
    # Integer views compare bit patterns: NaN equals itself, -0.0 differs from 0.0.
    return torch.equal(current.detach().view(bits), source.view(bits))


def _integer_params(
    conv: nn.Conv2d,
) -> tuple[Tensor, Tensor, tuple[int, int], tuple[int, int]]:
    """(weight, bias, kernel size, padding) for :func:`_conv`, kept while ``conv`` is unchanged."""
    cached: _IntegerConv | None = conv.__dict__.get(_CACHE_ATTR)
    if not (
        cached is not None
        and _same_bits(conv.weight, cached.source_weight)
        and _same_bits(conv.bias, cached.source_bias)
    ):
        cached = _derive(conv)
        # Straight into __dict__: not a parameter, buffer or submodule, so state_dict(), .to()
        # and casts ignore it. Concurrent callers may both derive; either result is the same.
        conv.__dict__[_CACHE_ATTR] = cached
    padding = conv.padding
    assert isinstance(padding, tuple)
    kh, kw = conv.kernel_size
    return cached.weight, cached.bias, (int(kh), int(kw)), (int(padding[0]), int(padding[1]))


def _derive(conv: nn.Conv2d) -> _IntegerConv:
    """The integer parameters of ``conv``, by exact operations on its float parameters."""
    # Normal tensors even when called in inference mode: the cache outlives the call, and
    # inference tensors could not be saved for backward if a later call tracks gradients.
    with torch.inference_mode(False), torch.no_grad():
        source_weight = conv.weight.detach().clone()
        source_bias = None if conv.bias is None else conv.bias.detach().clone()
        weight = source_weight.double().clamp(-WEIGHT_LIMIT, WEIGHT_LIMIT)
        if source_bias is None:
            bias = torch.zeros(conv.out_channels, dtype=torch.float64, device=weight.device)
        else:
            bias = source_bias.double().clamp(-BIAS_LIMIT, BIAS_LIMIT)
        weight_int = torch.round(weight * 2**WEIGHT_BITS)
        bias_int = torch.round(bias * 2 ** (WEIGHT_BITS + ACTIVATION_BITS))
        return _IntegerConv(
            source_weight,
            source_bias,
            weight_int.reshape(conv.out_channels, -1),  # (out_ch, C*kh*kw), unfold's order
            bias_int[:, None],
        )
