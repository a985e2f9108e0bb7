"""The command line: serve | worker | models | generate | submit | tasks."""

import sys

from kinema.cli import local, remote, service  # noqa: F401  (they register their commands)
from kinema.cli.common import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
