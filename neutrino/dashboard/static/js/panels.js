// The side panel's read-only views: details of the selected node (a network with its
// address usage and the scheduler's ranking) and the security groups with their rules.

import {h, kvTable, nameOf, replace, short, table} from "./dom.js";

const pct = (used, total) => (total ? `${Math.round((100 * used) / total)}%` : "—");

function usageBar(used, total) {
  const width = total ? Math.min(100, (100 * used) / total) : 0;
  return h("div", {class: "bar", title: `${used} of ${total} used`},
    h("div", {class: "bar-fill", style: `width:${width.toFixed(1)}%`}));
}

/** Address usage: GET /v2.0/network-ip-availabilities/{id}. */
async function availability(api, net) {
  try {
    const {network_ip_availability: a} = await api.get(`/v2.0/network-ip-availabilities/${net.id}`);
    return h("div", {class: "availability"},
      h("h3", {}, "Address usage"),
      h("p", {}, `${a.used_ips} of ${a.total_ips} addresses used (${pct(a.used_ips, a.total_ips)})`),
      usageBar(a.used_ips, a.total_ips),
      table(["subnet", "CIDR", "used", "total"], a.subnet_ip_availability.map((s) =>
        [s.subnet_name || short(s.subnet_id), s.cidr, String(s.used_ips), String(s.total_ips)])));
  } catch (err) {
    return h("p", {class: "muted"}, `Address usage: ${err.message}`);
  }
}

/** The scheduler's ranking for the network's project: GET /v2.0/network-candidates. */
async function ranking(api, net, scope) {
  const project = scope === "all" ? net.project_id : scope;
  const params = new URLSearchParams({count: "1"});
  if (api.isAdmin || project !== api.projectId) params.set("project_id", project);
  try {
    const {network_candidates: items} = await api.get(`/v2.0/network-candidates?${params}`);
    const rows = items.map((c) => [c.rank === null ? "—" : String(c.rank),
      c.network_name || short(c.network_id), `${c.free_ips} free / ${c.total_ips}`,
      (c.reasons || []).join("; ")]);
    const mine = items.find((c) => c.network_id === net.id);
    return h("div", {class: "ranking"},
      h("h3", {}, "Scheduler ranking"),
      h("p", {}, mine
        ? (mine.eligible ? `Rank ${mine.rank} of ${items.filter((c) => c.eligible).length} ` +
           `for project ${short(project)}'s next port.`
           : `Not a candidate: ${(mine.reasons || []).join("; ")}`)
        : `Not among project ${short(project)}'s candidates.`),
      table(["rank", "network", "addresses", "reasons"], rows, {class: "grid ranking-table"}));
  } catch (err) {
    return h("p", {class: "muted"}, `Scheduler ranking: ${err.message}`);
  }
}

function fixedIps(port) {
  return (port.fixed_ips || []).map((f) => f.ip_address).join(", ");
}

/** Render the details of ``kind``/``resource`` into ``el``. */
export async function showDetails(el, api, kind, resource, res, scope, actions) {
  const title = h("h2", {}, `${kind} ${nameOf(resource)}`);
  if (kind === "network" || kind === "external") {
    const subnets = res.subnets.filter((s) => s.network_id === resource.id);
    replace(el, title, kvTable([["id", resource.id], ["project", resource.project_id],
      ["status", resource.status], ["shared", String(resource.shared)],
      ["external", String(resource["router:external"])], ["MTU", String(resource.mtu)],
      ["type", resource["provider:network_type"]],
      ["segmentation id", resource["provider:segmentation_id"] ?? undefined]]),
      h("h3", {}, "Subnets"),
      table(["name", "CIDR", "gateway", "DHCP"], subnets.map((s) =>
        [nameOf(s), s.cidr, s.gateway_ip || "—", s.enable_dhcp ? "yes" : "no"])),
      h("p", {class: "muted"}, "Loading address usage and ranking…"));
    const parts = await Promise.all([availability(api, resource), ranking(api, resource, scope)]);
    el.lastChild.replaceWith(...parts);
    return;
  }
  if (kind === "router") {
    const gw = resource.external_gateway_info;
    const ifaces = res.ports.filter((p) => p.device_id === resource.id &&
      p.device_owner !== "network:router_gateway");
    replace(el, title, kvTable([["id", resource.id], ["project", resource.project_id],
      ["status", resource.status],
      ["gateway", gw ? (gw.external_fixed_ips || []).map((f) => f.ip_address).join(", ") : null],
      ["SNAT", gw ? String(gw.enable_snat) : undefined]]),
      h("h3", {}, "Interfaces"),
      table(["port", "addresses"], ifaces.map((p) => [short(p.id), fixedIps(p)])));
    return;
  }
  if (kind === "port") {
    replace(el, title, kvTable([["id", resource.id], ["network", resource.network_id],
      ["addresses", fixedIps(resource)], ["MAC", resource.mac_address],
      ["status", resource.status], ["device owner", resource.device_owner],
      ["device id", resource.device_id], ["host", resource["binding:host_id"]],
      ["security groups", (resource.security_groups || []).map(short).join(", ")]]),
      h("button", {type: "button", onclick: () => actions.explainFrom(resource.id)},
        "Explain traffic from this port"));
    return;
  }
  if (kind === "floatingip") {
    replace(el, title, kvTable([["id", resource.id], ["address", resource.floating_ip_address],
      ["fixed address", resource.fixed_ip_address], ["port", resource.port_id],
      ["router", resource.router_id], ["status", resource.status]]));
    return;
  }
  if (kind === "instance") {
    replace(el, title, kvTable([["instance (device_id)", resource.id],
      ["device owner", resource.device_owner], ["host", resource.host],
      ["ports", resource.ports.map(short).join(", ")]]));
    return;
  }
  replace(el, title, kvTable(Object.entries(resource).filter(([, v]) => typeof v !== "object")
    .map(([k, v]) => [k, String(v)])));
}

function ruleRow(rule, groups) {
  const range = rule.port_range_min === null ? "any"
    : rule.port_range_min === rule.port_range_max ? String(rule.port_range_min)
      : `${rule.port_range_min}-${rule.port_range_max}`;
  const remote = rule.remote_ip_prefix || (rule.remote_group_id
    ? `group ${nameOf(groups.get(rule.remote_group_id) || {id: rule.remote_group_id})}`
    : rule.remote_address_group_id ? `address group ${short(rule.remote_address_group_id)}` : "any");
  return [rule.direction, rule.ethertype, rule.protocol || "any", range, remote];
}

/** The security groups in scope with their rules. */
export async function showSecurityGroups(el, api, scope) {
  const params = api.isAdmin && scope !== "all" ? {project_id: scope} : {};
  const groups = await api.list("security-groups", params);
  const byId = new Map(groups.map((g) => [g.id, g]));
  replace(el, groups.length ? groups.map((g) => h("div", {class: "sg", dataset: {id: g.id}},
    h("h3", {}, `${g.name} `, h("span", {class: "muted"}, `${short(g.id)} · ${short(g.project_id)}`)),
    g.description ? h("p", {class: "muted"}, g.description) : null,
    table(["direction", "ethertype", "protocol", "ports", "remote"],
      (g.security_group_rules || []).map((r) => ruleRow(r, byId)))))
    : h("p", {class: "muted"}, "No security groups."));
  return groups;
}
