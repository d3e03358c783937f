"""Errors of segments and routed networks (neutron-lib ``exceptions/segments.py``,
``neutron/services/segments/exceptions.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


class FixedIpsSubnetsNotOnSameSegment(BadRequest):
    """A port's fixed IPs on subnets of different segments (neutron-lib
    ``exceptions/segments.py``): a port sits on one segment."""

    template = "Cannot allocate addresses from different segments."


class NoNetworkAvailable(Conflict):
    """No VLAN or VNI left to allocate. Neutron answers 503 (ResourceExhausted);
    neutrino answers 409 and says which ranges are exhausted."""

    template = ("Unable to create the network. No tenant network is available for allocation: "
                "{detail}.")


class SegmentNotFound(NotFound):
    template = "Segment {segment_id} could not be found."


class SegmentInUse(Conflict):
    template = "Segment '{segment_id}' cannot be deleted: {reason}."


class SegmentsSetInConjunctionWithProviders(BadRequest):
    template = "Segments and provider values cannot both be set."


class SegmentsContainDuplicateEntry(BadRequest):
    template = "Duplicate segment entry in request."


class SubnetsNotAllAssociatedWithSegments(BadRequest):
    template = ("All of the subnets on network '{network_id}' must either all be associated "
                "with segments or all not associated with any segment.")


class NetworkIdsDontMatch(BadRequest):
    template = ("The subnet's network id, '{subnet_network}', doesn't match the network_id of "
                "segment '{segment_id}'")


class HostNotConnectedToAnySegment(Conflict):
    template = ("Host {host} is not connected to any segments on routed provider network "
                "'{network_id}'.  It should be connected to one.")


class HostNotCompatibleWithFixedIps(Conflict):
    template = ("Host {host} is not connected to a segment where the existing fixed_ips on "
                "port {port_id} will function given the routed network topology.")
