"""Task heads on the latents and their pixel baselines: ``fit_task`` (the Lightning CLI),
``task_module``, ``task_data`` and ``export_head``."""

__all__: list[str] = []
