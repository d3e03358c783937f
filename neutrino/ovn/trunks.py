"""Trunk subports as OVN child ports (ovn-nb(5), "Containers"), as ML2/OVN does.

A subport's ``binding:profile`` holds ``parent_name`` (its trunk's parent port id,
which is the parent's LSP name) and ``tag`` (the segmentation id), written by
``services.trunk_ports``; ML2/OVN's ``ovn_client._get_port_options`` reads the same
two keys. Its LSP then gets ``parent_name`` and ``tag_request``; ovn-northd copies
the request into ``tag``, and ovn-controller binds the child where the parent is bound,
sending its frames out of the parent's interface with that 802.1Q tag and taking the
parent's frames with that tag as the child's. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

MIN_TAG, MAX_TAG = 1, 4095  # Logical_Switch_Port.tag_request (0 asks northd to pick one)


def child_of(port: Any) -> tuple[str | None, int | None]:
    """``(parent_name, tag_request)`` of the port's LSP: both from ``binding:profile``
    when ``parent_name`` is a non-empty string and ``tag`` an integer 1-4095 (a string
    of digits too, as ML2/OVN converts it), else ``(None, None)``: no child port."""
    profile = getattr(port, "binding_profile", None) or {}
    parent, tag = profile.get("parent_name"), profile.get("tag")
    if not isinstance(parent, str) or not parent:
        return None, None
    if isinstance(tag, str) and tag.isdigit():
        tag = int(tag)
    if isinstance(tag, bool) or not isinstance(tag, int) or not MIN_TAG <= tag <= MAX_TAG:
        return None, None
    return parent, tag
