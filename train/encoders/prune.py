"""Structured channel pruning of a codec's ``g_a``: the initial weights of a ``pruned-*`` encoder.

``python -m train.encoders.prune --encoder pruned-50 [--codec hyperprior] [--images 64] -o build/edge/pruned-50-init.safetensors``

Each hidden layer keeps the channels that matter most to the next layer: channel ``c`` of
layer ``k`` scores ``mean|a_k[c]| · ||W_{k+1}[:, c]||_1``, the mean absolute activation after
GDN (on random crops of the training photos, never Kodak) times the L1 norm of the weights
that read it. Removing a channel removes the convolution's output filter and bias, GDN's
``beta[c]``, row and column ``c`` of ``gamma``, and the next convolution's input slice, so the
result is a dense, physically smaller network (faster on a CPU, unlike masked weights). It is
then fine-tuned with ``train/encoders/distill.py`` (``--model.init_weights``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from compressai.layers import GDN
from safetensors.torch import save_file
from torch import Tensor, nn

from neuralcodec import registry, weights
from neuralcodec.models.encoders import EncoderConfig, build_encoder
from train.codec.data import photo_crops

__all__ = ["channel_scores", "prune_analysis", "main"]

_CONVS = (0, 2, 4, 6)  # indices of the convolutions in g_a; GDN at 1, 3, 5


@torch.no_grad()
def channel_scores(g_a: nn.Sequential, crops: Tensor) -> list[Tensor]:
    """Importance of each hidden channel of the three GDN layers, (c_k,) each."""
    scores, x = [], crops
    for index, layer in enumerate(g_a):
        x = layer(x)
        if isinstance(layer, GDN):
            activation = x.abs().mean(dim=(0, 2, 3))  # (C,)
            reader = g_a[index + 1].weight.abs().sum(dim=(0, 2, 3))  # (C,) L1 of W[:, c]
            scores.append(activation * reader)
    return scores


@torch.no_grad()
def prune_analysis(g_a: nn.Sequential, config: EncoderConfig, crops: Tensor) -> nn.Sequential:
    """A copy of ``g_a`` with the ``config.widths`` best channels of each hidden layer.

    Raises:
        ValueError: ``config`` is separable, or asks for more channels than ``g_a`` has.
    """
    if config.separable:
        raise ValueError("pruning keeps g_a's plain convolutions: give a non-separable config")
    scores = channel_scores(g_a, crops)
    if any(width > len(s) for width, s in zip(config.widths, scores)):
        raise ValueError(f"widths {config.widths} exceed g_a's {[len(s) for s in scores]}")
    keep = [s.topk(width).indices.sort().values for s, width in zip(scores, config.widths)]
    pruned = build_encoder(config)
    state = g_a.state_dict()
    new = dict(state)  # buffers (re-parametrisation bounds) carry over unchanged
    for k, conv_index in enumerate(_CONVS):
        weight, bias = state[f"{conv_index}.weight"], state[f"{conv_index}.bias"]
        if k > 0:
            weight = weight[:, keep[k - 1]]  # inputs: the kept channels of the previous layer
        if k < 3:
            weight, bias = weight[keep[k]], bias[keep[k]]  # outputs
            gdn = f"{conv_index + 1}"
            new[f"{gdn}.beta"] = state[f"{gdn}.beta"][keep[k]]
            new[f"{gdn}.gamma"] = state[f"{gdn}.gamma"][keep[k]][:, keep[k]]
        new[f"{conv_index}.weight"], new[f"{conv_index}.bias"] = weight, bias
    pruned.load_state_dict(new, strict=True)
    return pruned.eval()


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="pruned-50", help="ENCODER_ARCHITECTURES key")
    parser.add_argument("--codec", default="hyperprior", help="the teacher")
    parser.add_argument("--images", type=int, default=64, help="calibration crops")
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    teacher, _ = weights.load_model(registry.get(args.codec))
    crops = photo_crops(args.images, args.patch_size, args.seed)
    pruned = prune_analysis(teacher.g_a, registry.ENCODER_ARCHITECTURES[args.encoder], crops)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in pruned.state_dict().items()}, str(args.output))
    with torch.no_grad():
        error = (pruned(crops) - teacher.g_a(crops)).square().mean() / teacher.g_a(crops).square().mean()
    print(f"wrote {args.output}; relative latent MSE before fine-tuning: {float(error):.4f}")


if __name__ == "__main__":
    main()
