"""The ``neutrino`` command. Parses, calls, renders; nothing else lives here.

One module per group of subcommands (``services``, ``allinone``, ``lab``), all registered on
the one Typer app of ``common``. ``python -m neutrino.cli`` and the ``neutrino`` console
script both run :func:`main`.
"""

from __future__ import annotations

# importing them registers their commands, in the order ``neutrino --help`` lists them
from neutrino.cli import services  # noqa: F401, I001
from neutrino.cli import allinone  # noqa: F401
from neutrino.cli import lab  # noqa: F401
from neutrino.cli import explain  # noqa: F401
from neutrino.cli import logs  # noqa: F401
from neutrino.cli.common import app


def main() -> None:
    """Run the ``neutrino`` command line."""
    app(prog_name="neutrino")
