"""Notifications neutrino sends to other OpenStack services (Nova's port events)."""
