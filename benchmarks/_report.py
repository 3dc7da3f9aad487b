"""What every benchmark script does with its figures: print them as JSON, and write them if asked."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def emit(figures: dict[str, Any], path: Path | None) -> None:
    """Print the figures (with the machine they were measured on) and write them to `path` if given."""
    text = json.dumps({**figures, "python": sys.version.split()[0], "cpus": os.cpu_count()}, indent=2)
    print(text)
    if path:
        path.write_text(text + "\n")
