"""Write the model cards ``weights/<stem>.md`` (and the index ``weights/README.md``) from measured results.

``python -m eval.studies.model_card`` reads, for every codec in the registry with shipped weights:
its training record ``weights/<stem>.json`` (written by ``train/codec/export.py``) and its
Kodak results ``eval/reports/kodak/neuralcodec-<codec>.json`` (written by ``python -m eval.rd``),
and computes BD-rates against the published anchors (MSE codecs) or quotes the matched-rate
LPIPS table of ``python -m eval.studies.gan`` (the GAN codec). It never measures anything itself.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from eval.rd.bdrate import bd_rate, gain_at_equal_rate
from eval.rd.results import load_anchor
from neuralcodec import registry
from neuralcodec.heads import HEADS
from neuralcodec.models import GenerativeConfig
from neuralcodec.weights import weights_dir

__all__ = ["ANCHORS", "card", "main"]

#: The minimum the project aims for, in percent BD-rate vs bmshj2018-hyperprior.
TARGET_BD_RATE = 5.0
KODAK_RESULTS = Path(__file__).resolve().parents[1] / "reports" / "kodak" / "results"
GAN_REPORT = Path(__file__).resolve().parents[1] / "reports" / "gan"
#: Anchor file stem -> label, all PSNR-RGB curves on Kodak from CompressAI's results.
ANCHORS = {
    "jpeg": "JPEG 4:2:0 (CompressAI, Pillow)",
    "bpg_444_x265_ycbcr": "BPG 4:4:4 (x265)",
    "compressai-bmshj2018-hyperprior_mse_cpu": "CompressAI bmshj2018-hyperprior",
    "compressai-mbt2018-mean_mse_cpu": "CompressAI mbt2018-mean",
    "bmshj2018-hyperprior-vbr-ans": "CompressAI bmshj2018-hyperprior-vbr (variable rate)",
    "mbt2018-mean-vbr-ans": "CompressAI mbt2018-mean-vbr (variable rate)",
    "jpeg2000": "JPEG 2000 (CompressAI's curve, ffmpeg; our OpenJPEG is 19 % better)",
}


def _kodak_table(results: dict, with_lpips: bool) -> str:
    rd = results["results"]
    qualities = rd.get("quality", list(range(1, len(rd["bpp"]) + 1)))
    header = "| quality | bpp | PSNR-RGB (dB) | MS-SSIM |" + (" LPIPS |" if with_lpips else "")
    rule = "|---|---|---|---|" + ("---|" if with_lpips else "")
    rows = [
        f"| {q:g} | {b:.4f} | {p:.2f} | {m:.4f} |" + (f" {lp:.3f} |" if with_lpips else "")
        for q, b, p, m, lp in zip(qualities, rd["bpp"], rd["psnr-rgb"], rd["ms-ssim-rgb"], rd["lpips"])
    ]
    return "\n".join([header, rule, *rows])


def _references(spec: registry.CodecSpec) -> dict[str, tuple[str, dict]]:
    """The published anchors and this repository's other MSE codecs: key -> (label, RD curve)."""
    references = {}
    for stem, label in ANCHORS.items():
        doc = load_anchor("kodak", f"{stem}.json")
        if doc is not None:
            references[stem] = (label, doc["results"])
    for other in registry.CODECS:
        path = KODAK_RESULTS / f"neuralcodec-{other.name}.json"
        if other.name != spec.name and not isinstance(other.config, GenerativeConfig) and path.is_file():
            label = f"neuralcodec {other.name} v{other.version} (this repository)"
            references[other.name] = (label, json.loads(path.read_text())["results"])
    return references


def _bd_rate_section(spec: registry.CodecSpec, results: dict) -> str:
    """BD-rates of an MSE codec against the published anchors and our other codecs, and the targets."""
    rd = results["results"]
    bd_rows, bd_values = [], {}
    for key, (label, curve) in _references(spec).items():
        value = bd_rate(curve["bpp"], curve["psnr-rgb"], rd["bpp"], rd["psnr-rgb"])
        bd_values[key] = value
        text = "no overlap" if math.isnan(value) else f"{value:+.1f} %"
        bd_rows.append(f"| {label} | {text} |")
    target = bd_values.get("compressai-bmshj2018-hyperprior_mse_cpu", math.nan)
    verdict = "met" if target <= TARGET_BD_RATE else "NOT met"
    jpeg_bd = bd_values.get("jpeg", math.nan)
    gains = _gain_over_jpeg(rd)
    reached = [g for g in gains if g is not None]  # qualities whose rate JPEG reaches
    beats = sum(g > 0 for g in reached)
    return f"""BD-rate (PSNR-RGB, pchip over the overlapping range; negative = fewer bits than the anchor):

| anchor | BD-rate |
|---|---|
{chr(10).join(bd_rows)}

PSNR-RGB minus that of our JPEG 4:2:0 (Pillow, `eval/reports/kodak/results/jpeg-420.json`) at
the same bpp, per quality (`–`: below JPEG's lowest rate):
{" / ".join("–" if g is None else f"{g:+.2f} dB" for g in gains)}.

**Must-target** (beat JPEG at every quality: BD-rate below 0 % vs CompressAI's JPEG and a higher
PSNR than JPEG at every quality's rate it reaches): **{"met" if jpeg_bd < 0 and beats == len(reached) else "NOT met"}**
(BD-rate {jpeg_bd:+.1f} %, above JPEG at {beats} of the {len(reached)} qualities whose rate JPEG reaches).
**Target** (BD-rate ≤ +{TARGET_BD_RATE:g} % vs CompressAI bmshj2018-hyperprior): **{verdict}**.
"""


def _gain_over_jpeg(rd: dict) -> list[float | None]:
    """PSNR minus our Kodak JPEG 4:2:0's at the same bpp, per point."""
    jpeg = json.loads((KODAK_RESULTS / "jpeg-420.json").read_text())["results"]
    return gain_at_equal_rate(jpeg["bpp"], jpeg["psnr-rgb"], rd["bpp"], rd["psnr-rgb"])


def _gan_section() -> str:
    """The matched-rate LPIPS comparison of ``python -m eval.studies.gan`` (eval/reports/gan/table.json)."""
    table = json.loads((GAN_REPORT / "table.json").read_text())
    rows = []
    for row in table["rows"]:
        hevc = row["references"].get("hevc-444", {})
        at_2x = hevc.get("lpips@2x")
        verdict = "n/a" if at_2x is None else ("lower" if row["lpips"] < at_2x else "NOT lower")
        rows.append(f"| {row['quality']:g} | {row['bpp']:.4f} | {row['lpips']:.3f} | "
                    f"{'below range' if at_2x is None else f'{at_2x:.3f}'} | {verdict} |")
    return f"""LPIPS against BPG-class HEVC 4:4:4 at twice the GAN's rate, read off HEVC's mean Kodak curve
(`python -m eval.studies.gan`, full comparison in `eval/reports/gan/report.md`):

| quality | bpp | LPIPS | HEVC LPIPS at 2x bpp | GAN's LPIPS |
|---|---|---|---|---|
{chr(10).join(rows)}

**Target** (issue: Kodak LPIPS at ≤ 0.1 bpp lower than BPG's at twice the bits): see the rows
at or under 0.1 bpp.
"""


def _schedule(record: dict) -> str:
    """The learning-rate schedule, as the training module ran it (``train.codec.optim.scheduled_lr``)."""
    module = record.get("module", {})
    warmup, cosine = module.get("warmup_steps") or 0, module.get("cosine_steps")
    if cosine:
        reached = "" if cosine <= record["steps"] else f", stopped at step {record['steps']}"
        return f"{warmup} warm-up steps, then a cosine decay planned to end at step {cosine}{reached}"
    drop = record["lr_drop_step"]
    if drop < record["steps"]:
        return f"×0.1 from step {drop}"
    return f"constant (the drop scheduled at step {drop} was not reached)"


def _training_line(spec: registry.CodecSpec, record: dict) -> str:
    low, high = spec.quality_range
    module = record.get("module", {})
    common = (f"{record['steps']} steps, batch {record['batch_size']}, Adam lr {record['lr']} "
              f"({_schedule(record)}), quality drawn uniformly in [{low:g}, {high:g}] per sample")
    if isinstance(spec.config, GenerativeConfig):
        return (f"{common}; rate controlled to {module.get('target_bpp')} bpp on the training crops, "
                f"loss {module.get('mse_weight')}·MSE + {module.get('lpips_weight')}·LPIPS, "
                f"+ {module.get('adversarial_weight')}·adversarial from step "
                f"{module.get('adversarial_start_step')} (latent-conditioned discriminator), "
                f"g_a {'frozen' if module.get('freeze_analysis') else 'trained'}")
    options = [name for key, name in (
        ("rounded_synthesis", "g_s on the rounded latent"), ("bf16", "bf16 transforms"),
        ("channels_last", "channels-last"),
    ) if module.get(key)]
    if module.get("average_decay"):
        options.append(f"weight average (decay {module['average_decay']}) exported")
    if module.get("train_only"):
        options.append(f"only {', '.join(module['train_only'])} and the entropy bottleneck trained, "
                       "the rest fixed as loaded")
    extra = f"; {', '.join(options)}" if options else ""
    return f"{common}, λ ∈ [{record['lambda_range'][0]}, {record['lambda_range'][1]}]{extra}"


def _storage_line(record: dict) -> str:
    """Where the file takes the tensors it shares with an earlier release (``export --base``)."""
    if not record.get("base"):
        return ""
    return (f"\n- **Storage**: leaves out the tensors identical to `{record['base']}`'s and reads "
            "them from it (that file ships beside it).")


def card(spec: registry.CodecSpec, record: dict, results: dict) -> str:
    """The Markdown card of one weight file."""
    config = spec.config
    generative = isinstance(config, GenerativeConfig)
    model = spec.build()
    wall = record.get("wall_time_s")
    wall_text = f"{wall / 3600:.2f} h" if wall else "not recorded"
    measured = "bpp, PSNR-RGB, MS-SSIM" + (" and LPIPS (AlexNet)" if generative else "")
    return f"""## `{record['weights_file']}`

- **Codec**: `{spec.name}` (id {spec.codec_id}), {spec.description}.
- **Architecture**: `{spec.architecture}`, {type(model).__name__} {config};
  {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters.
- **sha256**: `{record['sha256']}` (git {record['git_sha']}).
- **Data**: {', '.join(record['train_dirs'])} under the data root ({record['num_train_images']} images);
  random {record['patch_size']}² crops with random down-scaling and flips. Never Kodak.
- **Training**: {_training_line(spec, record)}; started from
  {record.get('init_weights') or 'random initialisation'}.
- **Hardware**: {record['hardware']}; wall time {wall_text}.{_storage_line(record)}

Kodak (24 images), whole-file {measured} on the 8-bit decoded images
(`python -m eval.rd --dataset kodak --codecs neuralcodec-{spec.name}`):

{_kodak_table(results, generative)}

{_gan_section() if generative else _bd_rate_section(spec, results)}"""


def main(argv: list[str] | None = None) -> None:
    """Write ``weights/<stem>.md`` for each shipped weight file and the index ``weights/README.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    index = [
        "# Weights\n\nEvery weight file here was made by `train/`: exported by `train/codec/export.py` "
        "(codecs), `train/encoders/export_encoder.py` or `train/encoders/quantize.py` (encoders) and "
        "`train/heads/export_head.py` (task heads). Each card (`<file>.md`) holds only numbers measured "
        "by `eval/` (`python -m eval.studies.model_card`, `eval.studies.edge_cards`, "
        "`eval.studies.tasks`); `<file>.json` is the training record.\n",
    ]
    for spec in registry.CODECS:
        if spec.weights_file is None:
            continue
        stem = Path(spec.weights_file).stem
        record = json.loads((weights_dir() / f"{stem}.json").read_text())
        results = json.loads((KODAK_RESULTS / f"neuralcodec-{spec.name}.json").read_text())
        card_path = weights_dir() / f"{stem}.md"
        card_path.write_text("# Model card\n\n" + card(spec, record, results))
        index.append(f"- [`{spec.weights_file}`]({stem}.md): codec `{spec.name}` v{spec.version}, "
                     f"{spec.description}")
        for earlier in spec.releases()[1:]:  # their cards stay as written when they shipped
            earlier_stem = Path(str(earlier.weights_file)).stem
            index.append(f"  - earlier: [`{earlier.weights_file}`]({earlier_stem}.md), v{earlier.version} "
                         "(its files still decode)")
        print(f"wrote {card_path}")
    for encoder in registry.ENCODERS:  # cards by `python -m eval.studies.edge_cards`
        if encoder.weights_file is not None:
            stem = encoder.weights_file.rsplit(".", 1)[0]
            index.append(f"- [`{encoder.weights_file}`]({stem}.md): encoder `{encoder.name}` for codec "
                         f"`{encoder.codec}` v{encoder.codec_version}, {encoder.description}")
    for head in HEADS:  # cards by `python -m eval.studies.tasks`
        stem = head.weights_file.rsplit(".", 1)[0]
        index.append(f"- [`heads/{head.weights_file}`](heads/{stem}.md): {head.task} head on the "
                     f"latents of `{head.codec}` v{head.codec_version} at q {head.quality:g}, trained on {head.dataset}")
    (weights_dir() / "README.md").write_text("\n".join(index) + "\n")


if __name__ == "__main__":
    main()
