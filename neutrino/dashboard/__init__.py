"""The web dashboard, served by the API process at ``/dashboard`` (seed 000: networks
could not be seen or managed in Horizon).

* ``routes.py``: the page, its static assets (ES modules, CSS, vendored Cytoscape.js)
  and ``GET /dashboard/config.json`` (how to log in; no secrets).
* ``login.py``: ``POST /dashboard/login`` (``auth_strategy = keystone``): the user's own
  username/password/project/domain exchanged for a project-scoped Keystone token.

Everything else the page shows or changes goes through the Networking API itself with
the user's identity (``X-Auth-Token``, or noauth's ``X-Project-Id``/``X-Roles``), so
the dashboard has no privileges of its own and policy applies to it unchanged.
"""

from neutrino.dashboard.routes import install

__all__ = ["install"]
