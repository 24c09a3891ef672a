"""The error the dataset tools raise for source trees and output folders they cannot use."""

from __future__ import annotations

from neuralcodec.errors import NeuralcodecError

__all__ = ["DatasetError"]


class DatasetError(NeuralcodecError, ValueError):
    """A source tree with no images or an unknown layout, or an output folder made with other settings."""
