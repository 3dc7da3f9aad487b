"""`python -m labkit.workshop.hub_singleuser`: the JupyterHub spawner's command (see `labkit.workshop.hub`)."""

from __future__ import annotations

import sys

from labkit.workshop.hub import singleuser_main

if __name__ == "__main__":
    sys.exit(singleuser_main())
