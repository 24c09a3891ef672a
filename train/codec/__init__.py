"""Training the codecs: ``python -m train.codec.fit fit --config train/configs/hyperprior.yaml``.

The Lightning modules (``rd_module`` for the MSE codecs, ``gan_module`` with its
``discriminator``, ``losses`` and ``gan_init`` for the GAN codec), what they share (``data``,
``optim``, ``checkpoints``, ``validation``, ``callbacks``), ``export`` (the only writer of codec
weight files) and the GPU run (``gpu``, ``gpu_run.sh``).
"""

__all__: list[str] = []
