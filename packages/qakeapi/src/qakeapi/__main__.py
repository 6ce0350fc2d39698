"""``python -m qakeapi`` is the ``qake`` command."""

from qakeapi._cli import main

raise SystemExit(main())
