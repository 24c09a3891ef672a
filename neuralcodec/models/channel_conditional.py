"""Channel-conditional mean-scale codec: the hyperprior's transforms, a sliced entropy model.

After Minnen & Singh 2020, "Channel-wise autoregressive entropy models for learned image
compression": the latent y is split into slices along its channels; each slice's Gaussian
means and scales are predicted from the hyperprior and from the slices decoded before it,
and a latent residual prediction (LRP) corrects each rounded slice before synthesis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from neuralcodec.models import coding
from neuralcodec.models.fixed_point import FixedPointNetwork
from neuralcodec.models.hyperprior import HyperpriorConfig, MeanScaleHyperprior
from neuralcodec.models.outputs import DecodedLatents, RDOutput
from neuralcodec.models.tiling import Window, crop_window, num_tiles, tile_windows

__all__ = ["ChannelConditionalConfig", "ChannelConditionalHyperprior"]

#: Context (latents of y) around a window for the slice networks: over their radius, 3, and a
#: multiple of 4 so that the grown window stays on the grid of z.
_CONTEXT_MARGIN = 4


@dataclass(frozen=True)
class ChannelConditionalConfig(HyperpriorConfig):
    """Architecture of :class:`ChannelConditionalHyperprior`: the hyperprior's fields plus the slices'."""

    slices: int = 4  # slices of y, M / slices channels each, coded one after the other
    context_width: int = 128  # hidden channels of each slice's networks


def slice_network(in_channels: int, width: int, out_channels: int) -> nn.Sequential:
    """Three 3x3 convolutions with ReLU (radius 3); the last starts at zero, so the network at 0."""
    last = nn.Conv2d(width // 2, out_channels, 3, padding=1)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)  # type: ignore[arg-type]  # Conv2d(bias=True) has one
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(width, width // 2, 3, padding=1),
        nn.ReLU(),
        last,
    )


class ChannelConditionalHyperprior(MeanScaleHyperprior):
    r"""Mean-scale hyperprior whose entropy model conditions each latent slice on the previous ones.

    g_a, g_s, h_a, h_s, the gains and the entropy bottleneck are the hyperprior's (so it starts
    from trained hyperprior weights). Slice i of y (``k = M / slices`` channels) is coded with

    .. code-block:: none

        scales_i, means_i = hyper_i + context_i(hyper, y_hat_0 .. y_hat_{i-1})
        y_hat_i = round(y_i - means_i) + means_i                      (rANS, scales_i)
        synthesis input_i = y_hat_i + 0.5 tanh(lrp_i(means, y_hat_0 .. y_hat_i))

    where ``hyper`` is h_s's (scales, means) and ``hyper_i`` its channels of slice i. The
    context networks end in zero-initialised layers, so a fresh model codes exactly like the
    hyperprior it starts from. They run in exact fixed point when coding, like h_s, so means
    and scale indexes are bit-identical on every device; LRP only shapes the synthesis input
    and runs in float. The streams are z, then slice by slice, the tiles of each slice: a slice
    is decoded over the whole image before the next, so every tile sees its full context.
    """

    def __init__(self, config: HyperpriorConfig, lambdas: tuple[float, ...]) -> None:
        if not isinstance(config, ChannelConditionalConfig):
            raise TypeError(
                f"ChannelConditionalHyperprior needs a ChannelConditionalConfig, got {type(config).__name__}"
            )
        if config.M % config.slices:
            raise ValueError(f"M={config.M} does not split into {config.slices} slices")
        super().__init__(config, lambdas)
        k, width = config.M // config.slices, config.context_width
        self.context = nn.ModuleList(
            slice_network(2 * config.M + i * k, width, 2 * k) for i in range(config.slices)
        )
        self.residual = nn.ModuleList(
            slice_network(config.M + (i + 1) * k, width, k) for i in range(config.slices)
        )

    @property
    def slices(self) -> int:
        assert isinstance(self.config, ChannelConditionalConfig)
        return self.config.slices

    def _slice(self, i: int) -> slice:
        k = self.config.M // self.slices
        return slice(i * k, (i + 1) * k)

    def num_streams(self, latent_hw: tuple[int, int], tile_size: int) -> int:
        """One stream for z, then one per tile of each slice of y."""
        return 1 + self.slices * num_tiles(*latent_hw, self.latent_tile(tile_size))

    def forward(self, x: Tensor, quality: Tensor) -> RDOutput:
        """Training / evaluation pass with float networks; see :meth:`MeanScaleHyperprior.forward`.

        Each slice's context is the previous slices rounded around their means with a
        straight-through gradient: what the decoder has. The slice networks run in float32
        under autocast too: they give the final means and scales, and they are small.
        """
        y = self.g_a(x).float() * self._gain(self.log_gain, quality)  # (N, M, H/16, W/16)
        z = self.h_a(y).float()
        with torch.autocast(x.device.type, enabled=False):
            z_hat, z_likelihoods = self.entropy_bottleneck(z)
        hyper = self.h_s(z_hat).float()  # (N, 2M, h, w): scales, then means
        means = hyper[:, self.config.M :]
        decoded: list[Tensor] = []
        likelihoods, coded, synthesis_input = [], [], []
        for i in range(self.slices):
            y_i = y[:, self._slice(i)]
            with torch.autocast(x.device.type, enabled=False):
                scales_i, means_i = self._slice_params(i, hyper, decoded, self.context[i])
                y_hat_i, likelihoods_i = self.gaussian_conditional(y_i, scales_i, means=means_i)
                y_rounded = self.gaussian_conditional.quantize(y_i, "dequantize", means_i)
                coded.append(self.gaussian_conditional.likelihood_lower_bound(
                    self.gaussian_conditional._likelihood(y_rounded, scales_i, means_i)
                ))
                decoded.append(y_i + (y_rounded - y_i).detach())
                residual = self._residual(i, means, decoded, self.residual[i])
            likelihoods.append(likelihoods_i)
            synthesis_input.append(self._synthesis_input(y_i, y_hat_i, y_rounded) + residual)
        y_hat = torch.cat(synthesis_input, 1) * self._gain(self.log_inv_gain, quality)
        return RDOutput(
            self.g_s(y_hat).float(),
            {"y": torch.cat(likelihoods, 1), "z": z_likelihoods},
            y_hat,
            {"y": torch.cat(coded, 1), "z": z_likelihoods},
        )

    def _slice_params(
        self, i: int, hyper: Tensor, decoded: list[Tensor], context: Callable[[Tensor], Tensor]
    ) -> tuple[Tensor, Tensor]:
        """Scales and means of slice ``i``: the hyperprior's, corrected from the context."""
        k = self.config.M // self.slices
        correction = context(torch.cat([hyper, *decoded[:i]], 1)).float()
        scales = hyper[:, self._slice(i)] + correction[:, :k]
        means = hyper[:, self.config.M :][:, self._slice(i)] + correction[:, k:]
        return scales, means

    @staticmethod
    def _residual(
        i: int, means: Tensor, decoded: list[Tensor], lrp: Callable[[Tensor], Tensor]
    ) -> Tensor:
        """Latent residual prediction for slice ``i``, in (-0.5, 0.5)."""
        return 0.5 * torch.tanh(lrp(torch.cat([means, *decoded[: i + 1]], 1)).float())

    def _hyper_params(self, z_hat: Tensor, tile: int) -> Callable[[Window], Tensor]:
        """The hyperprior's, each window computed once: every slice and the residual
        prediction ask for the same windows again."""
        hyper = super()._hyper_params(z_hat, tile)
        cache: dict[Window, Tensor] = {}

        def cached(window: Window) -> Tensor:
            if window not in cache:
                cache[window] = hyper(window)
            return cache[window]

        return cached

    def _slice_tile_params(
        self, i: int, hyper: Callable[[Window], Tensor], y_hat: Tensor
    ) -> coding.TileParams:
        """Scale indexes and means of slice ``i`` over a window, from the hyperprior and the
        slices before it in ``y_hat`` around the window (exact)."""
        context = FixedPointNetwork(self.context[i])
        height, width = y_hat.shape[-2:]

        def params(window: Window) -> tuple[Tensor, Tensor]:
            grown = window.grown(_CONTEXT_MARGIN, height, width)
            before = [crop_window(y_hat[:, self._slice(j)], grown) for j in range(i)]
            scales, means = self._slice_params(i, hyper(grown), before, context)
            inner = window.relative_to(grown)
            return (
                coding.scale_indexes(self.gaussian_conditional, crop_window(scales, inner)),
                crop_window(means, inner).contiguous(),
            )

        return params

    def _encode_y(self, y: Tensor, hyper: Callable[[Window], Tensor], tile: int) -> list[bytes]:
        """The streams of y: slice by slice, one per tile of the slice."""
        y_hat = torch.empty_like(y)  # what the decoder will have, slice by slice
        streams = []
        for i in range(self.slices):
            streams += coding.encode_tiles(
                self.gaussian_conditional, y[:, self._slice(i)], tile,
                self._slice_tile_params(i, hyper, y_hat), decoded=y_hat[:, self._slice(i)],
            )
        return streams

    def _decode_y(
        self, streams: list[bytes], y_hat: Tensor, hyper: Callable[[Window], Tensor], tile: int
    ) -> None:
        """Decode the streams of :meth:`_encode_y` into ``y_hat``, a slice over the whole image at a time."""
        per_slice = len(streams) // self.slices
        for i in range(self.slices):
            coding.decode_tiles(
                self.gaussian_conditional, streams[i * per_slice : (i + 1) * per_slice],
                y_hat[:, self._slice(i)], tile, self._slice_tile_params(i, hyper, y_hat),
            )

    def _synthesis_latent(
        self, latents: DecodedLatents, hyper: Callable[[Window], Tensor], tile: int
    ) -> Tensor:
        """y_hat plus each slice's latent residual prediction, window by window."""
        y_hat = latents.y_hat
        out = y_hat.clone()
        height, width = y_hat.shape[-2:]
        for window in tile_windows(height, width, tile):
            grown = window.grown(_CONTEXT_MARGIN, height, width)
            means = hyper(grown)[:, self.config.M :]
            decoded = [crop_window(y_hat[:, self._slice(j)], grown) for j in range(self.slices)]
            inner = window.relative_to(grown)
            for i in range(self.slices):
                residual = self._residual(i, means, decoded, self.residual[i])
                crop_window(out[:, self._slice(i)], window).add_(crop_window(residual, inner))
        return out

