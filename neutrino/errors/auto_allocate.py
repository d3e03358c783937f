"""Errors of the auto-allocated topology (``neutron/services/auto_allocate/exceptions.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict


class AutoAllocationFailure(Conflict):
    """Neutron's ``AutoAllocationFailure`` (409, ``neutron/services/auto_allocate/
    exceptions.py``): no network can be had; ``reason`` says why."""

    template = "Deployment error: {reason}."
