"""Names Neutron gives to things, spelled once (as neutron-lib's ``constants``).

``device_owner`` values (Neutron API reference, "Ports"; neutron-lib
``neutron_lib/constants.py``), the IPv6 address modes that make addresses without
DHCP (RFC 4862 SLAAC; RFC 8415 stateless DHCPv6), neutrino's own metadata port
``device_id`` prefix (the ``ovnmeta-`` namespace of ML2/OVN's metadata agent), and the
SB ``Chassis_Private.external_ids`` keys neutrino's metadata agent reports in.
"""

DEVICE_OWNER_NETWORK_PREFIX = "network:"
DEVICE_OWNER_COMPUTE_PREFIX = "compute:"
DEVICE_OWNER_DHCP = "network:dhcp"
#: OVN's metadata port: a ``localport`` bound on every chassis.
DEVICE_OWNER_DISTRIBUTED = "network:distributed"
DEVICE_OWNER_ROUTER_INTF = "network:router_interface"
DEVICE_OWNER_DVR_INTERFACE = "network:router_interface_distributed"
DEVICE_OWNER_HA_REPLICATED_INT = "network:ha_router_replicated_interface"
DEVICE_OWNER_ROUTER_GW = "network:router_gateway"
DEVICE_OWNER_FLOATINGIP = "network:floatingip"
DEVICE_OWNER_TRUNK_SUBPORT = "trunk:subport"  # neutron-lib services/trunk/constants.py
#: What every port a router owns starts with (its interfaces of all kinds, its gateway).
DEVICE_OWNER_ROUTER_PREFIX = "network:router"

#: Owners that may hold a subnet's gateway_ip (neutron-lib ``ROUTER_INTERFACE_OWNERS``).
ROUTER_INTERFACE_OWNERS = (DEVICE_OWNER_ROUTER_INTF, DEVICE_OWNER_DVR_INTERFACE,
                           DEVICE_OWNER_HA_REPLICATED_INT)

#: ``provider:network_type`` values neutrino serves; flat and vlan segments sit on a
#: physical network (a localnet port each, reference D.1).
TYPE_FLAT, TYPE_VLAN, TYPE_GENEVE = "flat", "vlan", "geneve"
PHYSNET_TYPES = (TYPE_FLAT, TYPE_VLAN)

IPV6_SLAAC = "slaac"
DHCPV6_STATELESS = "dhcpv6-stateless"
#: ``ipv6_address_mode``/``ipv6_ra_mode`` values whose addresses the port makes itself.
AUTO_ADDRESS_MODES = (IPV6_SLAAC, DHCPV6_STATELESS)

#: ``device_id`` of a network's metadata port: ``ovnmeta-<network id>``.
METADATA_DEVICE_PREFIX = "ovnmeta-"

#: SB ``Chassis_Private.external_ids`` keys of neutrino's metadata agent on that chassis
#: (written by ``metadata.report``, read by ``ovn.status``): the agent's id
#: (``<hostname>:<pid>``; kept after it stops), and the space-separated, sorted ids of
#: the networks whose metadata path is plumbed and listening there now.
CHASSIS_METADATA_AGENT = "neutrino:metadata-agent"
CHASSIS_METADATA_NETWORKS = "neutrino:metadata-networks"
#: ... and the SB_Global ``nb_cfg`` the agent last saw: its answer to the controller's
#: liveness probe (``ovn.agents``), as ML2/OVN's agent writes ``neutron:ovn-metadata-sb-cfg``.
CHASSIS_METADATA_SB_CFG = "neutrino:metadata-sb-cfg"
