"""One S11 app per framework for ``benchmarks/transfers.py`` (uploads and downloads).

Every module exposes ``app`` serving the same three routes:

* ``POST /upload``: a ``multipart/form-data`` body whose part ``file`` (a file of any
  size) is written to ``upload_path(<framework>)`` as it arrives or from the framework's
  spooled upload; the answer is ``{"size": <bytes written>}``;
* ``GET /download``: the file ``download_path()`` (10 MiB), with its Content-Length;
* ``GET /ping``: ``pong`` in plain text, the probe that shows whether the event loop
  answers while a transfer runs.

The files live in the directory named by the ``S11_DIR`` environment variable (see
``common.py``); ``transfers.py`` creates it and the file to download.
"""
