"""Every ``train.codec.fit`` recipe names a real training module and only arguments it takes."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="training extras not installed")
pytest.importorskip("pytorch_lightning", reason="training extras not installed")

from train.codec.data import PhotoDataModule  # noqa: E402

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "train" / "configs").glob("*.yaml"))
#: The recipes read by train.codec.fit (its LightningCLI takes the module from model.class_path).
FIT_RECIPES = [p for p in CONFIGS if "class_path" in yaml.safe_load(p.read_text())["model"]]


def test_the_codec_recipes_are_found() -> None:
    assert {p.stem for p in FIT_RECIPES} >= {"hyperprior", "hyperprior-cpu", "gan", "gan-cpu"}


@pytest.mark.parametrize("config", FIT_RECIPES, ids=lambda p: p.stem)
def test_recipe_arguments_bind(config: Path) -> None:
    recipe = yaml.safe_load(config.read_text())
    module_path, _, class_name = recipe["model"]["class_path"].rpartition(".")
    module = getattr(importlib.import_module(module_path), class_name)
    inspect.signature(module.__init__).bind(None, **recipe["model"]["init_args"])
    inspect.signature(PhotoDataModule.__init__).bind(None, **recipe["data"])
