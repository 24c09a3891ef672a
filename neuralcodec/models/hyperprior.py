"""Variable-rate mean-scale hyperprior codec with a device-exact hyper-decoder."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import torch
from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from torch import Tensor, nn

from neuralcodec.models import coding
from neuralcodec.models.base import CodecModel
from neuralcodec.models.fixed_point import FixedPointNetwork
from neuralcodec.models.outputs import Compressed, DecodedLatents, RDOutput
from neuralcodec.models.tiling import Window, num_tiles, tiled_map, window_map
from neuralcodec.models.transforms import analysis, hyper_analysis, hyper_synthesis, synthesis

__all__ = ["HyperpriorConfig", "MeanScaleHyperprior"]

# Context around a tile, at least each transform's receptive-field radius (see models/tiling.py):
_G_A_MARGIN = 64  # pixels (g_a reaches 30 px); a multiple of 16 keeps the stride phase
_H_A_MARGIN = 8  # latents of y (h_a reaches 7); a multiple of 4
_H_S_MARGIN = 4  # latents of z (h_s reaches 3)


@dataclass(frozen=True)
class HyperpriorConfig:
    """Architecture of :class:`MeanScaleHyperprior`."""

    N: int = 128  # channels of the hidden layers of every transform
    M: int = 192  # channels of the latent y
    num_qualities: int = 8  # gain vectors; quality is continuous in [1, num_qualities]


class MeanScaleHyperprior(CodecModel):
    r"""Mean-scale hyperprior (Minnen et al. 2018, without context model) with per-channel gains.

    Transforms after Ballé et al. 2018, "Variational image compression with a scale
    hyperprior"; variable rate after Cui et al. 2021, "Asymmetric gained deep image
    compression with continuous rate adaptation": the latent is multiplied by a learned gain
    vector before quantization and by an inverse gain after, with log-linear interpolation
    between the ``num_qualities`` learned vectors, so one network codes any quality in
    ``[1, num_qualities]``. The hyper-decoder ``h_s`` runs in exact integer arithmetic when
    coding, so scale indexes and means are bit-identical on every device.

    .. code-block:: none

                   ┌───┐  y  ┌──────┐ y_g ┌───┐  z  ┌───┐ z_hat    ┌───┐
            x ──►──┤g_a├──►──┤×gain ├──►──┤h_a├──►──┤ Q ├───►───●──┤h_s├──┐
                   └───┘     └──────┘  │  └───┘     └───┘       ¦  └───┘  │
                                       │                      ┌─┴─┐       │ scales_hat
                                       │                      │EB │       │ means_hat
                                     ┌─┴─┐                    └───┘       │
                                     │ Q ├──►── y_hat ──┐                 │
                                     └───┘       ¦      │                 │
                                               ┌─┴─┐    │                 │
                                               │GC ├◄───┼─────────────────┘
                                               └───┘    │
                   ┌───┐        ┌─────────┐             │
        x_hat ──◄──┤g_s├───◄────┤×inv_gain├──────◄──────┘
                   └───┘        └─────────┘

        EB: EntropyBottleneck   GC: GaussianConditional   Q: quantization (rANS when coding)

    Args:
        config: Channel counts and number of quality levels.
        lambdas: The training λ of each level, used only to initialise the gains so that
            gain ∝ sqrt(λ) (the step size that balances MSE against rate).
    """

    def __init__(self, config: HyperpriorConfig, lambdas: tuple[float, ...]) -> None:
        super().__init__()
        if len(lambdas) != config.num_qualities:
            raise ValueError(f"{len(lambdas)} lambdas for {config.num_qualities} qualities")
        self.config = config
        N, M = config.N, config.M
        self.g_a = analysis(N, M)
        self.g_s = self._synthesis(config)
        self.h_a = hyper_analysis(N, M)
        self.h_s = hyper_synthesis(N, M)
        self.entropy_bottleneck = EntropyBottleneck(N, entropy_coder=coding.ENTROPY_CODER)
        self.gaussian_conditional = GaussianConditional(None, entropy_coder=coding.ENTROPY_CODER)
        #: Training option: g_s decodes the latent rounded around its means, with a straight-through
        #: gradient (what it gets from a file), instead of the noisy proxy that the rate term uses
        #: ("mixed quantization", Minnen & Singh 2020). Takes no part in coding.
        self.rounded_synthesis_input = False
        log_gain = torch.tensor([0.5 * math.log(lmbda / max(lambdas)) for lmbda in lambdas])
        self.log_gain = nn.Parameter(log_gain[:, None].repeat(1, M))  # (Q, M)
        self.log_inv_gain = nn.Parameter(-log_gain[:, None].repeat(1, M))  # (Q, M)

    @staticmethod
    def _synthesis(config: HyperpriorConfig) -> nn.Module:
        """The synthesis transform g_s: (B, M, H/16, W/16) -> (B, 3, H, W)."""
        return synthesis(config.N, config.M)

    @property
    def downsampling_factor(self) -> int:
        return 64

    @property
    def num_qualities(self) -> int:
        return self.config.num_qualities

    @property
    def synthesis_margin(self) -> int:
        """Context (latents of y) around a tile for g_s: over its receptive-field radius, 2."""
        return 4

    def num_streams(self, latent_hw: tuple[int, int], tile_size: int) -> int:
        """One stream for z, then one per tile of y."""
        return 1 + num_tiles(*latent_hw, self.latent_tile(tile_size))

    def gain(self, quality: float) -> Tensor:
        """The gain (1, M, 1, 1) on y before quantization at ``quality``."""
        return self._coding_gain(self.log_gain, quality)

    def inverse_gain(self, quality: float) -> Tensor:
        """The inverse gain (1, M, 1, 1) that maps y_hat at ``quality`` to the input of g_s."""
        return self._coding_gain(self.log_inv_gain, quality)

    def quality_weights(self, quality: Tensor) -> Tensor:
        """Interpolation weights (N, Q) over the learned levels for qualities (N,)."""
        levels = self.config.num_qualities
        if not bool(((quality >= 1) & (quality <= levels)).all()):  # also rejects NaN
            raise ValueError(f"quality must lie in [1, {levels}], got {quality.tolist()}")
        position = quality - 1  # (N,) in [0, Q-1]
        grid = torch.arange(levels, dtype=quality.dtype, device=quality.device)
        return (1 - (position[:, None] - grid).abs()).clamp(min=0)  # (N, Q), hat functions

    def _gain(self, log_gains: Tensor, quality: Tensor) -> Tensor:
        """Log-linear interpolation of gain vectors: (N,) -> (N, M, 1, 1)."""
        weights = self.quality_weights(quality.to(log_gains))
        return torch.exp(weights @ log_gains)[:, :, None, None]

    def _coding_gain(self, log_gains: Tensor, quality: float) -> Tensor:
        """The gain for coding, computed in float64 on the CPU for reproducibility."""
        q = torch.tensor([quality], dtype=torch.float64)
        return self._gain(log_gains.detach().cpu().double(), q).float().to(log_gains.device)

    def forward(self, x: Tensor, quality: Tensor) -> RDOutput:
        """Training / evaluation pass with the float hyper-decoder.

        Under autocast (e.g. bf16 training) the transforms run in the low precision while the
        entropy models and everything the rate depends on stay in float32.

        Args:
            x: Images (N, 3, H, W) in [0, 1], H and W multiples of 64.
            quality: Quality of each image, (N,).
        """
        y = self.g_a(x).float() * self._gain(self.log_gain, quality)  # (N, M, H/16, W/16)
        z = self.h_a(y).float()  # (N, N, H/64, W/64)
        with torch.autocast(x.device.type, enabled=False):
            z_hat, z_likelihoods = self.entropy_bottleneck(z)
        scales_hat, means_hat = self.h_s(z_hat).float().chunk(2, 1)
        with torch.autocast(x.device.type, enabled=False):
            y_hat, y_likelihoods = self.gaussian_conditional(y, scales_hat, means=means_hat)
            # The latent a file would hold (rounded around the means) and its likelihood: the
            # rate that the noisy training proxy stands in for, far below it at low rates.
            y_rounded = self.gaussian_conditional.quantize(y, "dequantize", means_hat)
            rounded_likelihoods = self.gaussian_conditional.likelihood_lower_bound(
                self.gaussian_conditional._likelihood(y_rounded, scales_hat, means_hat)
            )
        y_hat = self._synthesis_input(y, y_hat, y_rounded) * self._gain(self.log_inv_gain, quality)
        return RDOutput(
            self.g_s(y_hat).float(),
            {"y": y_likelihoods, "z": z_likelihoods},
            y_hat,
            {"y": rounded_likelihoods, "z": z_likelihoods},
        )

    def _synthesis_input(self, y: Tensor, y_hat: Tensor, y_rounded: Tensor) -> Tensor:
        """What g_s decodes in ``forward``: the entropy model's y_hat (noisy when training), or
        the rounded latent with a straight-through gradient if :attr:`rounded_synthesis_input`."""
        if self.rounded_synthesis_input:
            return y + (y_rounded - y).detach()
        return y_hat

    def exact_h_s(self, z_hat: Tensor) -> tuple[Tensor, Tensor]:
        """Scales and means from the integer-exact hyper-decoder, (1, M, h, w) each."""
        # FixedPointNetwork checks its cached integer weights against the current float ones.
        scales_hat, means_hat = FixedPointNetwork(self.h_s)(z_hat).chunk(2, 1)
        return scales_hat, means_hat

    def _hyper_params(self, z_hat: Tensor, tile: int) -> Callable[[Window], Tensor]:
        """The exact h_s output (1, 2M, h, w), scales then means, over a window of y.

        For a z of at most one tile, h_s runs once and windows are cropped from it. One such
        function serves a whole compress or decompress call (see :meth:`_decode_latents`).
        """
        h_s = window_map(FixedPointNetwork(self.h_s), z_hat, Fraction(4), tile // 4, _H_S_MARGIN)
        return lambda window: h_s(window.scaled(Fraction(1, 4)))

    def _tile_params(self, hyper: Callable[[Window], Tensor]) -> coding.TileParams:
        """Scale indexes and means of each y tile, from :meth:`_hyper_params` (exact)."""

        def params(window: Window) -> tuple[Tensor, Tensor]:
            scales_hat, means_hat = hyper(window).chunk(2, 1)
            return coding.scale_indexes(self.gaussian_conditional, scales_hat), means_hat

        return params

    def compress(self, x: Tensor, quality: float, tile_size: int) -> Compressed:
        """Entropy-code one image; see :class:`~neuralcodec.models.base.CodecModel`."""
        if x.size(0) != 1:
            raise ValueError("compress codes one image at a time")
        tile = self.latent_tile(tile_size)
        y = tiled_map(self.g_a, x, Fraction(1, 16), 16 * tile, _G_A_MARGIN)  # (1, M, H/16, W/16)
        y = y * self.gain(quality).to(x.device)
        z = tiled_map(self.h_a, y, Fraction(1, 4), tile, _H_A_MARGIN)  # (1, N, H/64, W/64)
        z_stream, z_hat = coding.encode_hyper_latent(self.entropy_bottleneck, z)
        # Condition on exactly what the decoder will see.
        hyper = self._hyper_params(z_hat, tile)
        return Compressed([z_stream, *self._encode_y(y, hyper, tile)], (y.size(2), y.size(3)))

    def _encode_y(self, y: Tensor, hyper: Callable[[Window], Tensor], tile: int) -> list[bytes]:
        """The streams of y (after z's): one per tile."""
        return coding.encode_tiles(self.gaussian_conditional, y, tile, self._tile_params(hyper))

    def decompress_latents(
        self, streams: list[bytes], latent_hw: tuple[int, int], tile_size: int
    ) -> DecodedLatents:
        """Entropy-decode y_hat (1, M, h, w), in the gained domain, and z_hat, without g_s."""
        return self._decode_latents(streams, latent_hw, tile_size)[0]

    def _decode_latents(
        self, streams: list[bytes], latent_hw: tuple[int, int], tile_size: int
    ) -> tuple[DecodedLatents, Callable[[Window], Tensor]]:
        """The decoded latents and the :meth:`_hyper_params` they were decoded with."""
        tile = self.latent_tile(tile_size)
        coding.check_streams(streams, self.num_streams(latent_hw, tile_size))
        z_hw = (latent_hw[0] // 4, latent_hw[1] // 4)
        z_hat = coding.decode_hyper_latent(self.entropy_bottleneck, streams[0], self.config.N, z_hw)
        hyper = self._hyper_params(z_hat, tile)
        y_hat = torch.empty(1, self.config.M, *latent_hw, device=z_hat.device)
        self._decode_y(streams[1:], y_hat, hyper, tile)
        return DecodedLatents(y_hat, z_hat), hyper

    def _decode_y(
        self, streams: list[bytes], y_hat: Tensor, hyper: Callable[[Window], Tensor], tile: int
    ) -> None:
        """Decode the streams of :meth:`_encode_y` into ``y_hat``."""
        coding.decode_tiles(self.gaussian_conditional, streams, y_hat, tile, self._tile_params(hyper))

    def decompress(
        self, streams: list[bytes], latent_hw: tuple[int, int], quality: float, tile_size: int
    ) -> Tensor:
        """Decode to x_hat (1, 3, 16h, 16w), not clamped."""
        tile = self.latent_tile(tile_size)
        latents, hyper = self._decode_latents(streams, latent_hw, tile_size)
        y_hat = self._synthesis_latent(latents, hyper, tile)
        y_hat = y_hat * self.inverse_gain(quality).to(y_hat.device)
        if y_hat.device.type == "cpu":
            # Otherwise oneDNN's transposed convolutions reorder every output to NCHW (~30% of g_s).
            y_hat = y_hat.contiguous(memory_format=torch.channels_last)
        x_hat: Tensor = tiled_map(self.g_s, y_hat, Fraction(16), tile, self.synthesis_margin)
        return x_hat

    def _synthesis_latent(
        self, latents: DecodedLatents, hyper: Callable[[Window], Tensor], tile: int
    ) -> Tensor:
        """What g_s decodes (before the inverse gain): the coded y_hat itself."""
        return latents.y_hat
