"""Write the cards ``weights/<stem>.md`` of the shipped encoder variants from measured results.

``python -m eval.studies.edge_cards`` reads, for every encoder in ``registry.ENCODERS`` with a file: its
training record ``weights/<stem>.json`` (torch students, from ``train/encoders/export_encoder.py``) or
its ONNX metadata (quantized graphs, from ``train/encoders/quantize.py``), and its Kodak results and
costs ``eval/reports/edge/results/<variant>.{rd,cost}.json`` (from ``python -m eval.studies.edge``). It measures
nothing itself. The variant of a torch encoder is its architecture; of an ONNX one,
``onnx-<name>``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from eval.studies.edge import VARIANTS, _compare, _curve, load_results
from eval.rd.report import REPORTS_DIR
from neuralcodec import registry
from neuralcodec.registry import EncoderSpec
from neuralcodec.weights import weights_dir

__all__ = ["card", "main", "variant_of"]

RESULTS = REPORTS_DIR / "edge" / "results"


def variant_of(spec: EncoderSpec) -> str:
    """The ``eval.studies.edge`` variant name that measured ``spec``'s file."""
    return spec.architecture if spec.kind == "torch" and spec.architecture else f"onnx-{spec.name}"


def _onnx_metadata(path: Path) -> dict[str, str]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def _training(spec: EncoderSpec, path: Path) -> str:
    if spec.kind == "onnx":
        meta = _onnx_metadata(path)
        return (f"- **Made by**: `python -m train.encoders.quantize --mode {meta.get('quantization')} "
                f"--name {spec.name} --ship` (post-training quantization of the shipped g_a, no "
                f"training). Calibration: {meta.get('calibration', 'none (fp16 needs none)')}; "
                "never Kodak.\n")
    record = json.loads(path.with_suffix(".json").read_text())
    init = record.get("init_weights") or "random initialisation"
    if record.get("init_weights"):
        init = (f"the teacher's g_a, structurally pruned by `python -m train.encoders.prune` "
                f"(`{record['init_weights']}`)")
    wall = record.get("wall_time_s")
    return (
        f"- **Training**: CPU-trained. {record['steps']} steps of `python -m train.encoders.distill fit "
        f"--config train/configs/encoder-{record['architecture']}.yaml`, batch "
        f"{record['batch_size']} × {record['patch_size']}² random crops (random down-scaling, "
        f"flips), Adam lr {record['lr']} (×0.1 from step {record['lr_drop_step']} if reached); "
        f"loss: {record['loss']}; started from {init}.\n"
        f"- **Data**: {', '.join(record['train_dirs'])} under the data root; "
        f"{record['val_dir']} held out for validation. Never Kodak.\n"
        f"- **Hardware**: {record['hardware']}; wall time "
        f"{f'{wall / 60:.0f} min' if wall else 'not recorded'}.\n"
    )


def _matched(result: dict[str, Any], reference: dict[str, Any]) -> list[dict[str, Any]]:
    """The fp32 rows of the images and qualities ``result`` measured."""
    by_key = {(r["image"], r["quality"]): r for r in reference["rd"]["rows"]}
    return [by_key[(r["image"], r["quality"])] for r in result["rd"]["rows"]]


def card(spec: EncoderSpec, path: Path, result: dict[str, Any], reference: dict[str, Any]) -> str:
    """The Markdown card of one encoder file."""
    bd, identical, files = _compare(result, reference)
    curve = result["rd"]["curve"]
    ref = _curve(_matched(result, reference), curve["quality"])
    rows = "\n".join(
        f"| {q:g} | {b:.4f} | {p:.2f} | {rb:.4f} | {rp:.2f} |"
        for q, b, p, rb, rp in zip(curve["quality"], curve["bpp"], curve["psnr"], ref["bpp"], ref["psnr"])
    )
    cost, meta = result["cost"], result["meta"]
    config = (f"`{spec.architecture}`: {registry.ENCODER_ARCHITECTURES[spec.architecture]}"
              if spec.architecture else "the shipped g_a's graph (N=128, M=192)")
    bd_text = "no overlap" if math.isnan(bd) else f"{bd:+.2f} %"
    return f"""# Encoder card: `{spec.weights_file}`

- **Encoder**: `{spec.name}` ({spec.kind}), {spec.description}. Select it with
  `neuralcodec compress --encoder {spec.name}` or `Codec("{spec.codec}", encoder="{spec.name}")`.
- **Pairs with**: codec `{spec.codec}` (its shipped weights decode the files; the file format is
  unchanged). It replaces g_a only: x (1, 3, H, W) in [0, 1] -> y (1, 192, H/16, W/16).
- **Architecture**: {config}; {cost['params'] / 1e6:.3f} M parameters, {cost['macs'] / 1e9:.2f} GMAC
  (convolutions, 768x512 image).
- **sha256**: `{spec.sha256}`.
{_training(spec, path)}
Measured by `python -m eval.studies.edge` ({VARIANTS[variant_of(spec)]}) on {meta['cpu']}, {meta['threads']}
thread(s), load average {cost['load']} (shared machine): g_a {min(cost['g_a_s']):.3f} s and
full encode {min(cost['encode_s']):.3f} s for one 768x512 Kodak image (min over {cost['repeats']});
peak RSS of the encoding process {cost['peak_rss_mb']:.0f} MB; file {cost['file_bytes'] / 1e6:.2f} MB.

Kodak (the first {meta['images']} images), whole-file bpp and PSNR-RGB of the decoded 8-bit images, against
the shipped fp32 g_a on the same images ({identical} of {files} files byte-identical to its):

| quality | bpp | PSNR-RGB (dB) | fp32 bpp | fp32 PSNR-RGB (dB) |
|---|---|---|---|---|
{rows}

**BD-rate vs the fp32 encoder** (PSNR-RGB, pchip): **{bd_text}**. Full trade-off table:
`eval/reports/edge/report.md`.
"""


def main(argv: list[str] | None = None) -> None:
    """Write a card for every registered encoder that has a file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = load_results(args.results)
    reference = results["fp32"]
    for spec in registry.ENCODERS:
        if spec.weights_file is None:
            continue
        path = weights_dir() / spec.weights_file
        result = results[variant_of(spec)]
        if result["artifact"]["sha256"] != spec.sha256:
            raise SystemExit(f"{variant_of(spec)} results measured another file than "
                             f"{spec.weights_file}; re-run python -m eval.studies.edge")
        card_path = path.with_name(path.name.rsplit(".", 1)[0] + ".md")
        card_path.write_text(card(spec, path, result, reference))
        print(f"wrote {card_path}")


if __name__ == "__main__":
    main()
