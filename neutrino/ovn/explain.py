"""Why can (or can't) port A reach B: ovn-trace's answer in Neutron terms.

``POST /v2.0/ports/{port_id}/explain`` (extension ``explain``) and ``neutrino
explain``. Data flow: :func:`explain` reads the source port, the destination and the
gateway from the database (``ovn.explain_facts.plan``), checks the SB has the port's
``Port_Binding`` (409 :class:`PortNotInOvn` otherwise), runs ``ovn-trace`` on the SB
(``ovn.trace``: one simulated first packet of a new connection), reads the Neutron
rows behind the OVN names it printed (``explain_facts.load_facts``) and
:func:`render` s the pipelines as steps:

* ``switch``: the network a port sends on, a network carrying it from a router, the
  port it is delivered to, the physical network (localnet) it leaves by;
* ``security_group_rule``: the rule whose ACL (``pg_<group>``, priority 1002, matched
  by its text as ``ovn.security_groups.acl_match`` builds it) let it through;
  ``default_drop``: ``neutron_pg_drop``'s drop ACL, i.e. no rule of the port's groups
  allows it (Neutron's semantics: security groups are allow lists);
* ``port_security``: anti-spoofing drops, or a port without port security;
* ``router``, ``route`` (connected subnet, the gateway's default route, an extra
  route), ``nat`` (SNAT to the gateway address, a floating IP), ``arp`` (the router
  has no MAC binding for the next hop yet), ``chassis`` (where the source port is
  bound, the active gateway chassis of a router's gateway port, where the
  destination is bound), ``drop`` (any other logical flow that drops it).

The verdict is ``allowed`` when the trace delivers the packet to the destination port
(or, for an address, to any port or physical network, or asks it by ARP); the reason
is one sentence. Errors: PortNotFound (404), InvalidInput (400), PortNotInOvn and
OvnSouthboundUnavailable (409).
"""

from __future__ import annotations

import re
from typing import Any

from neutrino import errors
from neutrino.constants import DEVICE_OWNER_ROUTER_PREFIX
from neutrino.ovn import trace
from neutrino.ovn.explain_facts import (ExplainRequest, Facts, Plan, load_facts, ovn_port_ids,
                                        plan)
from neutrino.ovn.security_groups import ACL_PRIORITY_DROP, sg_id_of
from neutrino.services.context import Context
from neutrino.services.env import Env

_NAT = re.compile(r"ct_(snat|dnat)\w*\(([0-9a-fA-F:.]+)\)")
_ASSIGN = re.compile(r'^(\w+(?:\[[^\]]*\])?) = "?([^";]+)"?;$')
_ROUTE = re.compile(r"ip[46]\.dst == ([0-9a-fA-F:./]+)")
_PG = re.compile(r"@(pg_[0-9a-f_]+)\b")
# ovn-northd puts an ACL's flows at 1000 + its priority (OVN_ACL_PRI_OFFSET, northd.c)
ACL_FLOW_PRIORITY = 1000 + ACL_PRIORITY_DROP


class PortNotInOvn(errors.Conflict):
    """409: the port has no logical switch port (SB ``Port_Binding``) yet."""


class OvnSouthboundUnavailable(errors.Conflict):
    """409: the OVN southbound database cannot be read (not configured, unreachable)."""


def explain(env: Env, ctx: Context, port_id: str, req: ExplainRequest) -> dict[str, Any]:
    """The ``explain`` response body's inner object: ``verdict``, ``reason``,
    ``steps`` (``kind``, ``summary``, ``ids``), and ``raw`` when ``req.raw``.
    Blocking (subprocesses, ~0.1-1 s): run it off the event loop. Raises
    PortNotFound, InvalidInput, PortNotInOvn, OvnSouthboundUnavailable."""
    packet = env.db.run(lambda s: plan(s, ctx, port_id, req), write=False)
    sb = env.settings.ovn_sb_connection
    if not sb:
        raise OvnSouthboundUnavailable("OVN southbound database unreachable: no "
                                       "ovn_sb_connection is configured")
    try:
        exists, _ = trace.sb_binding(sb, port_id)
        if not exists:
            raise PortNotInOvn(f"Port {port_id} has no logical switch port in OVN yet "
                               "(no Port_Binding in the southbound database)")
        raw = "" if packet.early else trace.run_trace(sb, trace.microflow(
            inport=port_id, eth_src=packet.eth_src, eth_dst=packet.eth_dst,
            ip_version=packet.ip_version, ip_src=packet.ip_src, ip_dst=packet.ip_dst,
            protocol=packet.protocol, port=packet.port))
        pipelines = trace.parse(raw)
        names = {port_id} | ({packet.dest_port_id} if packet.dest_port_id else set())
        names |= {n for p in pipelines for n in (p.inport, p.outport) if n}
        names |= {o for p in pipelines for o, _ in p.outputs}
        port_ids, segment_ids = ovn_port_ids(names)
        facts = env.db.run(lambda s: load_facts(s, port_ids, segment_ids), write=False)
        gateways = {name: trace.sb_binding(sb, name)[1] for name in _redirects(pipelines)}
    except trace.SbUnavailable as exc:
        raise OvnSouthboundUnavailable(str(exc)) from None
    except ValueError as exc:  # ovn-trace refused the microflow: a bug of ours
        raise errors.NeutronError(f"ovn-trace refused the packet: {exc}") from None
    result = render(pipelines, facts, packet, gateways)
    if req.raw:
        result["raw"] = raw
    return result


def render(pipelines: list[trace.Pipeline], facts: Facts, packet: Plan,
           gateways: dict[str, str | None]) -> dict[str, Any]:
    """Steps, verdict and reason of a parsed trace. Pure: ``facts`` are the rows of
    ``load_facts``, ``gateways`` the chassis claiming each ``cr-lrp-*`` port."""
    r = _Renderer(facts, packet, gateways)
    return r.run(pipelines)


class _Renderer:
    def __init__(self, facts: Facts, packet: Plan, gateways: dict[str, str | None]) -> None:
        self.f, self.p, self.gateways = facts, packet, gateways
        self.steps: list[dict[str, Any]] = []
        self.delivered: list[str] = []  # OVN ports it was delivered to, on its way
        self.drop: dict[str, Any] | None = None
        self.asked_arp = False
        self.dst_addresses = {packet.ip_dst}  # plus where a DNAT (floating IP) sends it

    def step(self, kind: str, summary: str, **ids: str | None) -> dict[str, Any]:
        s = {"kind": kind, "summary": summary, "ids": {k.replace("__", ":"): v
                                                       for k, v in ids.items() if v}}
        self.steps.append(s)
        return s

    # -- names ---------------------------------------------------------------------------
    # names in summaries; the exact ids are in each step's ``ids``
    def port(self, pid: str) -> str:
        port = self.f.ports.get(pid, {})
        if port.get("name"):
            return port["name"]
        ips = [ip["ip_address"] for ip in port.get("fixed_ips", [])]
        return f"{pid} ({', '.join(ips)})" if ips else pid

    def network(self, nid: str) -> str:
        return self.f.networks.get(nid, {}).get("name") or nid

    def router(self, rid: str) -> str:
        return self.f.routers.get(rid, {}).get("name") or rid

    def what(self) -> str:
        p = self.p
        return f"{p.protocol}/{p.port}" if p.port else p.protocol

    # -- the walk ------------------------------------------------------------------------
    def run(self, pipelines: list[trace.Pipeline]) -> dict[str, Any]:
        p, src = self.p, self.f.ports.get(self.p.source_port_id, {})
        self.step("switch", f"port {self.port(p.source_port_id)} sends {self.what()} from "
                  f"{p.ip_src} to {p.ip_dst} on network {self.network(src.get('network_id', ''))}",
                  port_id=p.source_port_id, network_id=src.get("network_id"))
        host = src.get("binding_host_id")
        self.step("chassis", f"it leaves from chassis {host}, where the port is bound" if host
                  else "the port is bound to no chassis: nothing leaves it until an instance "
                       "plugs it", port_id=p.source_port_id, binding__host_id=host)
        if src and not src.get("port_security_enabled", True):
            self.step("port_security", f"port {self.port(p.source_port_id)} has port security "
                      "disabled: no anti-spoofing and no security groups", port_id=p.source_port_id)
        if p.early:
            kind, summary, ids = p.early
            self.drop = self.step(kind, summary, **ids)
        for pipe in pipelines:
            if pipe.is_router:
                self.router_pipeline(pipe)
            else:
                self.switch_pipeline(pipe)
        return self.verdict()

    def router_pipeline(self, pipe: trace.Pipeline) -> None:
        rport = pipe.inport.removeprefix("lrp-")
        rid = self.f.ports.get(rport, {}).get("device_id", "")
        if pipe.kind == "ingress":
            self.step("router", f"router {self.router(rid)} receives it on interface "
                      f"{self.port(rport)}", router_id=rid, port_id=rport)
        for flow in pipe.flows:
            actions = flow.action_text()
            if flow.stage == "lr_in_ip_routing":
                self.route(rid, flow)
            elif flow.stage == "lr_in_arp_resolve" and "No MAC binding" in actions:
                self.asked_arp = True
                self.step("arp", f"router {self.router(rid)} has no MAC binding for the next "
                          "hop yet: it sends an ARP request and holds this first packet",
                          router_id=rid)
            elif flow.stage == "lr_in_gw_redirect" and 'outport = "cr-lrp-' in actions:
                cr = actions.split('outport = "', 1)[1].split('"', 1)[0]
                gw = cr.removeprefix("cr-lrp-")
                chassis = self.gateways.get(cr)
                self.step("chassis", f"it leaves from gateway chassis {chassis}, active for "
                          f"router {self.router(rid)}'s gateway port {gw}" if chassis else
                          f"no chassis hosts router {self.router(rid)}'s gateway port {gw}",
                          router_id=rid, port_id=gw, binding__host_id=chassis)
            elif m := _NAT.search(actions):
                self.nat(rid, m.group(1), m.group(2))
            elif flow.drops and self.drop is None:
                self.drop = self.step("drop", f"router {self.router(rid)} drops it "
                                      f"({flow.stage}: {flow.match})", router_id=rid)

    def route(self, rid: str, flow: trace.Flow) -> None:
        m = _ROUTE.search(flow.match)
        prefix = m.group(1) if m else "?"
        sets = dict(x.groups() for a in flow.actions if (x := _ASSIGN.match(a)))
        out = sets.get("outport", "").removeprefix("lrp-")
        nexthop = sets.get("reg0") if self.p.ip_version == 4 else sets.get("xxreg0")
        router = self.f.routers.get(rid, {})
        if nexthop in (None, "ip4.dst", "ip6.dst"):
            subnet = next((sid for sid, s in self.f.subnets.items() if s["cidr"] == prefix), None)
            self.step("route", f"router {self.router(rid)} routes it to its connected "
                      f"subnet {prefix} on interface {self.port(out)}", router_id=rid,
                      subnet_id=subnet, port_id=out)
        elif any(r.get("destination") == prefix and r.get("nexthop") == nexthop
                 for r in router.get("routes", [])):
            self.step("route", f"router {self.router(rid)} takes its extra route {prefix} via "
                      f"{nexthop}", router_id=rid, port_id=out)
        else:
            gw_net = self.f.ports.get(router.get("gw_port_id") or "", {}).get("network_id")
            self.step("route", f"router {self.router(rid)} takes route {prefix} via {nexthop}"
                      + (f", the gateway of external network {self.network(gw_net)}"
                         if gw_net else ""), router_id=rid, port_id=out, network_id=gw_net)

    def nat(self, rid: str, kind: str, address: str) -> None:
        """``ct_snat(address)``: a floating IP's or the gateway's address as the new
        source; ``ct_dnat(address)``: a floating IP's fixed address as the new
        destination (which the packet is then delivered to)."""
        key = "floating_ip_address" if kind == "snat" else "fixed_ip_address"
        fip = next(((fid, f) for fid, f in self.f.floatingips.items()
                    if f[key] == address and f["router_id"] == rid), None)
        if kind == "dnat":
            self.dst_addresses.add(address)
        if fip:
            fid, f = fip
            verb = (f"rewrites source {f['fixed_ip_address']} to floating IP {address}"
                    if kind == "snat" else f"rewrites floating IP "
                                           f"{f['floating_ip_address']} to {address}")
            self.step("nat", f"router {self.router(rid)} {verb} (floating IP {fid})",
                      floatingip_id=fid, router_id=rid, port_id=f.get("fixed_port_id"))
        elif kind == "snat":
            self.step("nat", f"router {self.router(rid)} SNATs source {self.p.ip_src} to its "
                      f"external gateway address {address}", router_id=rid,
                      port_id=self.f.routers.get(rid, {}).get("gw_port_id"))
        else:
            self.step("nat", f"router {self.router(rid)} DNATs destination to {address}",
                      router_id=rid)

    def switch_pipeline(self, pipe: trace.Pipeline) -> None:
        if pipe.kind == "multicast":
            return
        port_id = pipe.inport if pipe.kind == "ingress" else pipe.outport
        port = self.f.ports.get(port_id, {})
        owner = port.get("device_owner", "")
        if pipe.kind == "ingress" and owner.startswith(DEVICE_OWNER_ROUTER_PREFIX):
            net = port.get("network_id", "")
            self.step("switch", f"network {self.network(net)} carries it on from router "
                      f"{self.router(port.get('device_id', ''))}", network_id=net,
                      router_id=port.get("device_id"))
        relevant = pipe.kind == "ingress" or self.counts(pipe.outport)
        if not relevant:
            return
        for flow in pipe.flows:
            if "_acl" in flow.stage and not flow.stage.endswith(("_hint", "pre_acl")):
                self.acl(flow, port_id)
            elif flow.drops and self.drop is None:
                kind = "port_security" if "port_sec" in flow.stage else "drop"
                what = (f"port security of port {self.port(port_id)} drops it: the packet "
                        "does not carry the port's MAC and addresses") if kind == "port_security" \
                    else f"network {self.network(port.get('network_id', ''))} drops it " \
                         f"({flow.stage}: {flow.match})"
                self.drop = self.step(kind, what, port_id=port_id)
        for out, kind in pipe.outputs:
            self.output(out, kind)

    def counts(self, outport: str) -> bool:
        """Whether an egress to ``outport`` is on the packet's way (not a flood copy)."""
        owner = self.f.ports.get(outport, {}).get("device_owner", "")
        if outport.startswith("provnet-") or owner.startswith(DEVICE_OWNER_ROUTER_PREFIX):
            return True
        if self.p.dest_port_id:
            return outport == self.p.dest_port_id
        return any(ip["ip_address"] in self.dst_addresses
                   for ip in self.f.ports.get(outport, {}).get("fixed_ips", []))

    def acl(self, flow: trace.Flow, port_id: str) -> None:
        acl = next((v for m, v in self.f.acls.items() if f"({m})" in flow.match), None)
        if acl is None:
            group = _PG.search(flow.match)
            if group and flow.priority >= ACL_FLOW_PRIORITY:  # an ACL, but of no rule we have
                sg = sg_id_of(group.group(1))
                self.step("security_group_rule", f"an ACL of security group "
                          f"{self.f.security_groups.get(sg, sg)} that no current rule makes "
                          f"{'drops' if flow.drops else 'lets through'} it at port "
                          f"{self.port(port_id)} (the NB sync is behind the database?)",
                          security_group_id=sg, port_id=port_id)
            return  # else ovn-northd's own (priority 1, ct.est, ...): no Neutron rule
        if acl.get("drop"):  # the flow of neutron_pg_drop's drop ACL (its action drops)
            if self.drop is None:
                port = self.f.ports.get(port_id, {})
                direction = "ingress" if flow.stage.startswith("ls_out") else "egress"
                groups = ", ".join(self.f.security_groups.get(g, g) for g in
                                   port.get("security_group_ids", [])) or "none"
                self.drop = self.step(
                    "default_drop", f"no {direction} rule of port {self.port(port_id)}'s "
                    f"security groups ({groups}) allows {self.what()}: default drop",
                    port_id=port_id, security_group_id=(port.get("security_group_ids") or
                                                        [None])[0])
            return
        if "port_group" in acl:  # neutron_pg_drop's DHCP / metadata allowances
            self.step("security_group_rule", "neutrino's allowance of DHCP and metadata "
                      "(neutron_pg_drop) lets it through", port_id=port_id)
            return
        self.step("security_group_rule", f"{self.rule_text(acl)} of security group "
                  f"{acl['group_name'] or acl['security_group_id']} "
                  f"{'drops' if flow.drops else 'allows'} it at port {self.port(port_id)}",
                  security_group_rule_id=acl["id"], security_group_id=acl["security_group_id"],
                  port_id=port_id)

    @staticmethod
    def rule_text(rule: dict) -> str:
        proto = rule.get("protocol") or "any protocol"
        low, high = rule.get("port_range_min"), rule.get("port_range_max")
        ports = "" if low is None else (f" {low}" if low == high or high is None
                                        else f" {low}-{high}")
        side = "from" if rule["direction"] == "ingress" else "to"
        remote = (rule.get("remote_ip_prefix") or
                  (f"members of group {rule['remote_group_id']}" if rule.get("remote_group_id")
                   else None) or
                  (f"address group {rule['remote_address_group_id']}"
                   if rule.get("remote_address_group_id") else None) or "anywhere")
        return (f"{rule['direction']} rule {rule['id']} ({rule['ethertype']} {proto}{ports} "
                f"{side} {remote})")

    def output(self, out: str, kind: str) -> None:
        if kind == "patch":
            return
        if out.startswith("provnet-"):
            seg = self.f.segments.get(out.removeprefix("provnet-"), {})
            net = seg.get("network_id", "")
            self.delivered.append(out)
            self.step("switch", f"it leaves network {self.network(net)} onto physical network "
                      f"{seg.get('physical_network') or '?'}"
                      + (f" (VLAN {seg['segmentation_id']})" if seg.get("segmentation_id")
                         else ""), network_id=net, segment_id=out.removeprefix("provnet-"))
            return
        port = self.f.ports.get(out, {})
        self.delivered.append(out)
        self.step("switch", f"network {self.network(port.get('network_id', ''))} delivers it to "
                  f"port {self.port(out)}", port_id=out, network_id=port.get("network_id"))
        host = port.get("binding_host_id")
        self.step("chassis", f"port {self.port(out)} is bound on chassis {host}" if host else
                  f"port {self.port(out)} is bound to no chassis: nothing receives it",
                  port_id=out, binding__host_id=host)

    def verdict(self) -> dict[str, Any]:
        dest = self.p.dest_port_id
        reached = (dest in self.delivered) if dest else bool(self.delivered) or self.asked_arp
        target = f"port {self.port(dest)}" if dest else self.p.ip_dst
        if reached and not (self.drop and not dest):
            rules = [s["ids"]["security_group_rule_id"] for s in self.steps
                     if s["kind"] == "security_group_rule" and "security_group_rule_id" in s["ids"]]
            routers = list(dict.fromkeys(s["ids"]["router_id"] for s in self.steps
                                         if s["kind"] == "router"))
            reason = f"{self.what()} from {self.p.ip_src} to {target} is allowed"
            if rules:
                reason += " by security group rule" + ("s " if len(rules) > 1 else " ") + \
                    " and ".join(rules)
            if routers:
                reason += ", routed by router " + ", ".join(self.router(r) for r in routers)
            nat = [s["summary"] for s in self.steps if s["kind"] == "nat"]
            if nat:
                reason += "; " + ", then ".join(nat)
            return {"verdict": "allowed", "reason": reason + ".", "steps": self.steps}
        if self.drop is not None:
            reason = f"{self.what()} to {target} is dropped: {self.drop['summary']}."
        else:
            reason = f"{self.what()} to {target} is dropped: OVN delivers it nowhere."
        return {"verdict": "dropped", "reason": reason, "steps": self.steps}


def _redirects(pipelines: list[trace.Pipeline]) -> set[str]:
    """The ``cr-lrp-*`` ports a router redirected the packet to (gateway chassis)."""
    found = set()
    for pipe in pipelines:
        for flow in pipe.flows:
            text = flow.action_text()
            if flow.stage == "lr_in_gw_redirect" and 'outport = "cr-lrp-' in text:
                found.add(text.split('outport = "', 1)[1].split('"', 1)[0])
    return found
