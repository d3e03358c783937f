"""Fixtures shared by every test layer.

``tests/`` is on sys.path (pytest's rootdir conftest), so helper modules such
as ``pgserver`` import by their plain name.
"""

from ovnlab import ovn_lab, run_prefix  # noqa: F401  (fixtures)
from pgserver import pg_server, pg_url  # noqa: F401  (fixtures)
