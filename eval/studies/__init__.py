"""Studies, one module each, each run alone with ``python -m eval.studies.NAME`` (``python -m
eval list`` shows the command and report folder of each).

``speed`` (encode/decode time), ``determinism`` (across threads and backends), ``large``
(tiling, memory), ``concurrency`` (one Codec shared by threads), ``edge`` and ``edge_cards``
(encoder variants), ``task_runs``, ``task_measure`` and ``tasks`` (learning from latents),
``train_speed`` and ``learning_curve`` (what CPU training buys), ``gan`` (the GAN codec at
extreme rates), ``dataset_throughput`` and ``dataset_summary`` (``compress-dataset``) and
``model_card`` (the codecs' cards in ``weights/``). They build on :mod:`eval.rd`, never the
other way round.
"""

__all__: list[str] = []
