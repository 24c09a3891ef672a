"""Write the model cards ``weights/<stem>.md`` (and the index ``weights/README.md``) from measured results.

``python -m eval.model_card`` reads, for every codec in the registry with shipped weights:
its training record ``weights/<stem>.json`` (written by ``train/export.py``) and its
Kodak results ``eval/reports/kodak/neuralcodec-<codec>.json`` (written by ``python -m eval.rd``),
and computes BD-rates against the published anchors. It never measures anything itself.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from eval.bdrate import bd_rate
from eval.results import load_anchor
from neuralcodec import registry
from neuralcodec.heads import HEADS
from neuralcodec.weights import weights_dir

__all__ = ["ANCHORS", "card", "main"]

#: The minimum the project aims for, in percent BD-rate vs bmshj2018-hyperprior.
TARGET_BD_RATE = 5.0
KODAK_RESULTS = Path(__file__).resolve().parent / "reports" / "kodak" / "results"
#: Anchor file stem -> label, all PSNR-RGB curves on Kodak from CompressAI's results.
ANCHORS = {
    "bpg_444_x265_ycbcr": "BPG 4:4:4 (x265)",
    "compressai-bmshj2018-hyperprior_mse_cpu": "CompressAI bmshj2018-hyperprior",
    "compressai-mbt2018-mean_mse_cpu": "CompressAI mbt2018-mean",
    "bmshj2018-hyperprior-vbr-ans": "CompressAI bmshj2018-hyperprior-vbr (variable rate)",
    "mbt2018-mean-vbr-ans": "CompressAI mbt2018-mean-vbr (variable rate)",
    "jpeg2000": "JPEG 2000",
}


def _parameters(spec: registry.CodecSpec) -> int:
    return sum(p.numel() for p in spec.build().parameters())


def card(spec: registry.CodecSpec, record: dict, results: dict) -> str:
    """The Markdown card of one weight file."""
    rd = results["results"]
    qualities = rd.get("quality", list(range(1, len(rd["bpp"]) + 1)))
    rows = "\n".join(
        f"| {q:g} | {b:.4f} | {p:.2f} | {m:.4f} |"
        for q, b, p, m in zip(qualities, rd["bpp"], rd["psnr-rgb"], rd["ms-ssim-rgb"])
    )
    bd_rows, bd_values = [], {}
    for stem, label in ANCHORS.items():
        doc = load_anchor("kodak", f"{stem}.json")
        if doc is None:
            continue
        anchor = doc["results"]
        value = bd_rate(anchor["bpp"], anchor["psnr-rgb"], rd["bpp"], rd["psnr-rgb"])
        bd_values[stem] = value
        text = "no overlap" if math.isnan(value) else f"{value:+.1f} %"
        bd_rows.append(f"| {label} | {text} |")
    target = bd_values.get("compressai-bmshj2018-hyperprior_mse_cpu", math.nan)
    verdict = "met" if target <= TARGET_BD_RATE else "NOT met"
    config = spec.config
    drop = record["lr_drop_step"]
    schedule = (
        f"(×0.1 from step {drop})"
        if drop < record["steps"]
        else f"constant (the drop scheduled at step {drop} was not reached)"
    )
    wall = record.get("wall_time_s")
    wall_text = f"{wall / 3600:.2f} h" if wall else "not recorded"
    return f"""## `{record['weights_file']}`

- **Codec**: `{spec.name}` (id {spec.codec_id}), {spec.description}.
- **Architecture**: `{spec.architecture}`, MeanScaleHyperprior N={config.N}, M={config.M},
  {config.num_qualities} gain vectors; {_parameters(spec) / 1e6:.2f} M parameters.
- **sha256**: `{record['sha256']}` (git {record['git_sha']}).
- **Data**: {', '.join(record['train_dirs'])} under the data root ({record['num_train_images']} images);
  random {record['patch_size']}² crops with random down-scaling and flips. Never Kodak.
- **Training**: {record['steps']} steps, batch {record['batch_size']}, Adam lr {record['lr']}
  {schedule}, λ ∈ [{record['lambda_range'][0]}, {record['lambda_range'][1]}]
  sampled per sample via a uniform quality in [1, 8]; started from
  {record.get('init_weights') or 'random initialisation'}.
- **Hardware**: {record['hardware']}; wall time {wall_text}.

Kodak (24 images), whole-file bpp (header included), PSNR-RGB and MS-SSIM on the 8-bit decoded
images (`python -m eval.rd --dataset kodak --codecs neuralcodec`):

| quality | bpp | PSNR-RGB (dB) | MS-SSIM |
|---|---|---|---|
{rows}

BD-rate (PSNR-RGB, pchip over the overlapping range; negative = fewer bits than the anchor):

| anchor | BD-rate |
|---|---|
{chr(10).join(bd_rows)}

**Target** (issue: BD-rate ≤ +{TARGET_BD_RATE:g} % vs CompressAI bmshj2018-hyperprior): **{verdict}**.
"""


def main(argv: list[str] | None = None) -> None:
    """Write ``weights/<stem>.md`` for each shipped weight file and the index ``weights/README.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    index = [
        "# Weights\n\nEvery weight file here was made by `train/`: exported by `train/export.py` "
        "(codecs), `train/export_encoder.py` or `train/quantize.py` (encoders) and "
        "`train/export_head.py` (task heads). Each card (`<file>.md`) holds only numbers measured "
        "by `eval/` (`python -m eval.model_card`, `eval.edge_cards`, `eval.tasks`); `<file>.json` "
        "is the training record.\n",
    ]
    for spec in registry.CODECS:
        if spec.weights_file is None:
            continue
        stem = Path(spec.weights_file).stem
        record = json.loads((weights_dir() / f"{stem}.json").read_text())
        results = json.loads((KODAK_RESULTS / f"neuralcodec-{spec.name}.json").read_text())
        card_path = weights_dir() / f"{stem}.md"
        card_path.write_text("# Model card\n\n" + card(spec, record, results))
        index.append(f"- [`{spec.weights_file}`]({stem}.md): codec `{spec.name}`, {spec.description}")
        print(f"wrote {card_path}")
    for encoder in registry.ENCODERS:  # cards by `python -m eval.edge_cards`
        if encoder.weights_file is not None:
            stem = encoder.weights_file.rsplit(".", 1)[0]
            index.append(f"- [`{encoder.weights_file}`]({stem}.md): encoder `{encoder.name}` for codec "
                         f"`{encoder.codec}`, {encoder.description}")
    for head in HEADS:  # cards by `python -m eval.tasks`
        stem = head.weights_file.rsplit(".", 1)[0]
        index.append(f"- [`heads/{head.weights_file}`](heads/{stem}.md): {head.task} head on the "
                     f"latents of `{head.codec}` at q {head.quality:g}, trained on {head.dataset}")
    (weights_dir() / "README.md").write_text("\n".join(index) + "\n")


if __name__ == "__main__":
    main()
