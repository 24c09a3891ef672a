"""The ``neuralcodec`` command: compress, decompress, info, models, and the task and export tools.

``main(argv)`` returns the exit status: 0 success, 1 a runtime failure, 2 a usage error, 130
interrupted (:mod:`neuralcodec.cli.status`). Errors print one line on stderr (``--debug``
shows the traceback). Outputs are written atomically, never overwrite without ``-f``, and
never overwrite an input (:mod:`neuralcodec.cli.files`).
"""

from neuralcodec.cli.app import main

__all__ = ["main"]
