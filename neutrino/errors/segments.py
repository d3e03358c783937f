"""Errors of segments and routed networks (neutron-lib ``exceptions/segments.py``,
``neutron/services/segments/exceptions.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


class FixedIpsSubnetsNotOnSameSegment(BadRequest):
    """A port's fixed IPs on subnets of different segments (neutron-lib
    ``exceptions/segments.py``): a port sits on one segment."""

    def __init__(self) -> None:
        super().__init__("Cannot allocate addresses from different segments.")


class NoNetworkAvailable(Conflict):
    """No VLAN or VNI left to allocate. Neutron answers 503 (ResourceExhausted);
    neutrino answers 409 and says which ranges are exhausted."""

    def __init__(self, detail: str) -> None:
        super().__init__("Unable to create the network. No tenant network is available for "
                         f"allocation: {detail}.")


class SegmentNotFound(NotFound):
    def __init__(self, segment_id: str) -> None:
        super().__init__(f"Segment {segment_id} could not be found.")


class SegmentInUse(Conflict):
    def __init__(self, segment_id: str, reason: str) -> None:
        super().__init__(f"Segment '{segment_id}' cannot be deleted: {reason}.")


class SegmentsSetInConjunctionWithProviders(BadRequest):
    def __init__(self) -> None:
        super().__init__("Segments and provider values cannot both be set.")


class SegmentsContainDuplicateEntry(BadRequest):
    def __init__(self) -> None:
        super().__init__("Duplicate segment entry in request.")


class SubnetsNotAllAssociatedWithSegments(BadRequest):
    def __init__(self, network_id: str) -> None:
        super().__init__(f"All of the subnets on network '{network_id}' must either all be "
                         "associated with segments or all not associated with any segment.")


class NetworkIdsDontMatch(BadRequest):
    def __init__(self, subnet_network: str, segment_id: str) -> None:
        super().__init__(f"The subnet's network id, '{subnet_network}', doesn't match the "
                         f"network_id of segment '{segment_id}'")


class HostNotConnectedToAnySegment(Conflict):
    def __init__(self, host: str, network_id: str) -> None:
        super().__init__(f"Host {host} is not connected to any segments on routed provider "
                         f"network '{network_id}'.  It should be connected to one.")


class HostNotCompatibleWithFixedIps(Conflict):
    def __init__(self, host: str, port_id: str) -> None:
        super().__init__(f"Host {host} is not connected to a segment where the existing "
                         f"fixed_ips on port {port_id} will function given the routed "
                         "network topology.")
