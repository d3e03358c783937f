// The topology graph: external networks, routers, networks, subnets, ports, instances
// (ports with device_owner compute:*, grouped by device_id) and floating IPs of one
// project (or of all, for an admin), drawn with Cytoscape.js and redrawn only when the
// elements change.

import cytoscape from "../vendor/cytoscape.esm.min.js";
import {nameOf, short} from "./dom.js";

const HIDDEN_OWNERS = new Set(["network:dhcp", "network:distributed", "network:floatingip"]);
const ROUTER_OWNERS = new Set(["network:router_interface", "network:router_interface_distributed",
  "network:ha_router_replicated_interface", "network:router_centralized_snat"]);

/** Everything the graph needs, as the caller sees it. scope: a project id or "all".
 *  Networks and subnets come unfiltered (a project's routers and ports sit on shared and
 *  external networks); routers, ports and floating IPs are asked for the scope only. */
export async function fetchResources(api, scope) {
  const mine = api.isAdmin && scope !== "all" ? {project_id: scope} : {};
  const [networks, subnets, routers, ports, floatingips] = await Promise.all([
    api.list("networks"), api.list("subnets"), api.list("routers", mine),
    api.list("ports", mine), api.list("floatingips", mine)]);
  return {networks, subnets, routers, ports, floatingips};
}

/** Resources -> {elements, index}: Cytoscape element definitions (sorted, so two
 *  calls on the same resources give the same JSON) and id -> [kind, resource]. */
export function buildElements(res, scope) {
  const inScope = (r) => scope === "all" || r.project_id === scope;
  const index = new Map();
  const nodes = new Map();
  const edges = new Map();
  const node = (id, kind, label, resource, extra = {}) => {
    nodes.set(id, {group: "nodes", data: {id, kind, label, ...extra}, classes: kind});
    if (resource) index.set(id, [kind, resource]);
  };
  const edge = (source, target, label = "", kind = "link") => {
    const id = `${source}--${target}`;
    edges.set(id, {group: "edges", data: {id, source, target, label}, classes: kind});
  };
  const networks = new Map(res.networks.map((n) => [n.id, n]));
  const shownNets = new Set();
  const showNet = (id) => {
    const net = networks.get(id);
    if (!net || shownNets.has(id)) return;
    shownNets.add(id);
    const ext = net["router:external"];
    node(id, ext ? "external" : "network", nameOf(net), net, {status: net.status});
  };
  for (const net of res.networks) if (net["router:external"] || inScope(net)) showNet(net.id);

  const routers = res.routers.filter(inScope);
  for (const r of routers) {
    node(r.id, "router", nameOf(r), r, {status: r.status});
    const gw = r.external_gateway_info;
    if (gw && gw.network_id) {
      showNet(gw.network_id);
      const ips = (gw.external_fixed_ips || []).map((f) => f.ip_address).join(" ");
      edge(gw.network_id, r.id, ips, "gateway");
    }
  }
  const ports = res.ports.filter(inScope);
  const portIds = new Set(ports.map((p) => p.id));
  const subnetIds = new Set(res.subnets.map((s) => s.id));
  for (const p of ports) {
    const owner = p.device_owner || "";
    if (ROUTER_OWNERS.has(owner)) {
      for (const ip of p.fixed_ips || []) {
        if (subnetIds.has(ip.subnet_id) && nodes.has(p.device_id)) {
          showNet(p.network_id);
          edge(p.device_id, ip.subnet_id, ip.ip_address, "interface");
        }
      }
    }
  }
  for (const s of res.subnets) {
    if (!shownNets.has(s.network_id)) continue;
    node(s.id, "subnet", `${nameOf(s)}\n${s.cidr}`, s);
    edge(s.id, s.network_id, "", "subnet-of");
  }
  for (const p of ports) {
    const owner = p.device_owner || "";
    if (HIDDEN_OWNERS.has(owner) || ROUTER_OWNERS.has(owner) || owner === "network:router_gateway") continue;
    showNet(p.network_id);
    if (!nodes.has(p.network_id)) continue;
    const ips = (p.fixed_ips || []).map((f) => f.ip_address).join(" ");
    node(p.id, "port", p.name || ips || short(p.id), p, {status: p.status});
    edge(p.network_id, p.id, ips, "attachment");
    if (owner.startsWith("compute:") && p.device_id) {
      const inst = `instance-${p.device_id}`;
      if (!nodes.has(inst)) {
        node(inst, "instance", p.name || short(p.device_id),
             {id: p.device_id, device_owner: owner, host: p["binding:host_id"], ports: []});
      }
      index.get(inst)[1].ports.push(p.id);
      edge(p.id, inst, "", "vif");
    }
  }
  for (const f of res.floatingips.filter(inScope)) {
    showNet(f.floating_network_id);
    node(f.id, "floatingip", f.floating_ip_address, f, {status: f.status});
    if (nodes.has(f.floating_network_id)) edge(f.floating_network_id, f.id, "", "fip");
    if (f.port_id && portIds.has(f.port_id) && nodes.has(f.port_id)) {
      edge(f.id, f.port_id, f.fixed_ip_address || "", "nat");
    }
  }
  const byId = (a, b) => (a.data.id < b.data.id ? -1 : a.data.id > b.data.id ? 1 : 0);
  return {elements: [...[...nodes.values()].sort(byId), ...[...edges.values()].sort(byId)], index};
}

const STYLE = [
  {selector: "node", style: {
    "label": "data(label)", "font-size": 11, "text-wrap": "wrap", "text-valign": "bottom",
    "text-margin-y": 4, "color": "#1d2733", "width": 30, "height": 30,
    "border-width": 1, "border-color": "#34495e", "background-color": "#95a5a6"}},
  {selector: "node.external", style: {"shape": "round-rectangle", "width": 70, "height": 26,
    "background-color": "#2e8b57", "text-valign": "center", "color": "#fff",
    "text-margin-y": 0, "font-weight": "bold"}},
  {selector: "node.network", style: {"shape": "round-rectangle", "width": 70, "height": 24,
    "background-color": "#2f6fb3", "text-valign": "center", "color": "#fff", "text-margin-y": 0}},
  {selector: "node.subnet", style: {"shape": "rectangle", "width": 18, "height": 12,
    "background-color": "#a9cce3", "font-size": 10}},
  {selector: "node.router", style: {"shape": "diamond", "width": 38, "height": 38,
    "background-color": "#e67e22"}},
  {selector: "node.port", style: {"shape": "ellipse", "width": 14, "height": 14,
    "background-color": "#7f8c8d", "font-size": 9}},
  {selector: "node.instance", style: {"shape": "round-rectangle", "width": 34, "height": 28,
    "background-color": "#8e44ad"}},
  {selector: "node.floatingip", style: {"shape": "tag", "width": 22, "height": 16,
    "background-color": "#e84393", "font-size": 10}},
  {selector: "node[status = 'DOWN'], node[status = 'ERROR']", style: {
    "border-color": "#c0392b", "border-width": 3}},
  {selector: "node:selected", style: {"border-color": "#f1c40f", "border-width": 4}},
  {selector: "edge", style: {"width": 2, "line-color": "#b0bec5", "curve-style": "bezier",
    "label": "data(label)", "font-size": 9, "color": "#34495e", "text-rotation": "autorotate",
    "text-background-color": "#fff", "text-background-opacity": 0.8,
    "text-background-padding": 1}},
  {selector: "edge.gateway", style: {"line-color": "#2e8b57", "width": 3}},
  {selector: "edge.interface", style: {"line-color": "#e67e22", "width": 3}},
  {selector: "edge.nat", style: {"line-color": "#e84393", "line-style": "dashed"}},
  {selector: "edge.fip", style: {"line-color": "#e84393", "line-style": "dotted"}},
];

/** The graph in ``container``; ``onSelect(id)`` when a node is tapped (null: background). */
export class TopologyView {
  constructor(container, onSelect) {
    this.cy = cytoscape({container, style: STYLE, elements: [], minZoom: 0.2, maxZoom: 3});
    this.signature = "";
    this.redraws = 0;  // how often update() changed the graph
    this.cy.on("tap", (e) => onSelect(e.target === this.cy ? null : e.target.id()));
  }

  /** Apply ``elements``; returns false (nothing touched) when they did not change. */
  update(elements) {
    const signature = JSON.stringify(elements);
    if (signature === this.signature) return false;
    this.signature = signature;
    this.redraws += 1;
    const wanted = new Map(elements.map((e) => [e.data.id, e]));
    const before = new Set(this.cy.elements().map((e) => e.id()));
    this.cy.batch(() => {
      this.cy.elements().filter((e) => !wanted.has(e.id())).remove();
      for (const [id, def] of wanted) {
        const el = this.cy.getElementById(id);
        if (el.empty()) this.cy.add(def);
        else { el.data(def.data); el.classes(def.classes); }
      }
    });
    const changedShape = before.size !== wanted.size || [...wanted.keys()].some((id) => !before.has(id));
    if (changedShape) this.layout();
    return true;
  }

  layout() {
    // Floating IP -> port (NAT) edges left out: a port hangs below its network, not
    // below its floating IP.
    const tree = this.cy.elements().not("edge.nat");
    let roots = this.cy.collection();
    for (const component of tree.components()) {
      const pick = ["external", "router", "network"].map((k) => component.nodes(`.${k}`))
        .find((c) => c.nonempty());
      roots = roots.union((pick || component.nodes()).slice(0, 3));
    }
    tree.layout({name: "breadthfirst", directed: false, spacingFactor: 1.05, padding: 20,
                    roots,
                    animate: false, nodeDimensionsIncludeLabels: true}).run();
    this.fitGently();
  }

  /** Fit the graph, but never blow a small one up past 1.2x. */
  fitGently() {
    this.cy.fit(undefined, 20);
    if (this.cy.zoom() > 1.2) {
      this.cy.zoom(1.2);
      this.cy.center();
    }
  }

  select(id) {
    this.cy.$(":selected").unselect();
    if (id) this.cy.getElementById(id).select();
  }

  resize() { this.cy.resize(); this.fitGently(); }
}
