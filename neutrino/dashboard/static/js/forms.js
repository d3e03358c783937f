// The forms: everyday actions through the Networking API with the user's identity,
// and the explain form (POST /v2.0/ports/{port_id}/explain).

import {$, h, nameOf, options, replace, short} from "./dom.js";

function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.multiple) out[el.name] = [...el.selectedOptions].map((o) => o.value);
    else out[el.name] = el.value.trim();
  }
  return out;
}

/** Run ``action`` for ``form``'s submit, showing its result or Neutron's error message. */
function handle(form, action, onDone) {
  const status = $(".result", form);
  form.onsubmit = async (event) => {
    event.preventDefault();
    status.className = "result";
    status.textContent = "…";
    try {
      status.textContent = await action(values(form));
      status.className = "result ok";
      onDone();
    } catch (err) {
      status.textContent = err.message;
      status.className = "result error";
    }
  };
}

/** Network + subnet; the network is deleted again when its subnet is refused (Horizon
 *  does the same), so a failed form leaves nothing behind. */
async function createNetwork(api, ctx, v) {
  const body = {name: v.name};
  if (ctx.targetProject()) body.project_id = ctx.targetProject();
  const {network} = await api.post("/v2.0/networks", {network: body});
  if (!v.cidr) return `Network ${network.name} created.`;
  const subnet = {network_id: network.id, name: v.subnet_name || `${v.name}-subnet`,
    cidr: v.cidr, ip_version: v.cidr.includes(":") ? 6 : 4, enable_dhcp: v.enable_dhcp};
  if (v.gateway_ip) subnet.gateway_ip = v.gateway_ip;
  if (body.project_id) subnet.project_id = body.project_id;
  try {
    await api.post("/v2.0/subnets", {subnet});
  } catch (err) {
    await api.del(`/v2.0/networks/${network.id}`).catch(() => {});
    throw err;
  }
  return `Network ${network.name} created with subnet ${v.cidr}.`;
}

async function createRouter(api, ctx, v) {
  const body = {name: v.name};
  if (ctx.targetProject()) body.project_id = ctx.targetProject();
  if (v.external) body.external_gateway_info = {network_id: v.external};
  const {router} = await api.post("/v2.0/routers", {router: body});
  for (const subnet of v.subnets || []) {
    await api.put(`/v2.0/routers/${router.id}/add_router_interface`, {subnet_id: subnet});
  }
  return `Router ${router.name} created with ${(v.subnets || []).length} interface(s).`;
}

async function floatingIp(api, ctx, v) {
  if (v.existing) {
    const {floatingip} = await api.put(`/v2.0/floatingips/${v.existing}`,
      {floatingip: {port_id: v.port || null}});
    return `Floating IP ${floatingip.floating_ip_address} ${v.port ? "associated" : "disassociated"}.`;
  }
  const body = {floating_network_id: v.network};
  if (v.port) body.port_id = v.port;
  if (ctx.targetProject()) body.project_id = ctx.targetProject();
  const {floatingip} = await api.post("/v2.0/floatingips", {floatingip: body});
  return `Floating IP ${floatingip.floating_ip_address} allocated.`;
}

async function addRule(api, _ctx, v) {
  const rule = {security_group_id: v.group, direction: v.direction, ethertype: v.ethertype};
  if (v.protocol) rule.protocol = v.protocol;
  if (v.port_min) rule.port_range_min = Number(v.port_min);
  if (v.port_max || v.port_min) rule.port_range_max = Number(v.port_max || v.port_min);
  if (v.remote_ip_prefix) rule.remote_ip_prefix = v.remote_ip_prefix;
  if (v.remote_group) rule.remote_group_id = v.remote_group;
  await api.post("/v2.0/security-group-rules", {security_group_rule: rule});
  return "Rule added.";
}

/** Wire the action forms. ctx: {api(), targetProject(), refresh()}. */
export function setupActions(ctx) {
  const wire = (id, fn) => handle($(id), (v) => fn(ctx.api(), ctx, v), ctx.refresh);
  wire("#form-network", createNetwork);
  wire("#form-router", createRouter);
  wire("#form-fip", floatingIp);
  wire("#form-rule", addRule);
}

const portLabel = (p) => `${p.name || short(p.id)} ${(p.fixed_ips || []).map((f) => f.ip_address).join(" ")}`;

/** Refresh the forms' choices from the current resources. */
export function fillChoices(res, groups, scope) {
  const inScope = (r) => scope === "all" || r.project_id === scope;
  const ext = res.networks.filter((n) => n["router:external"]);
  const extChoices = ext.map((n) => ({value: n.id, label: nameOf(n)}));
  options($("#form-router").elements.external, extChoices, "(no gateway)");
  options($("#form-fip").elements.network, extChoices);
  const subnets = res.subnets.filter((s) => inScope(s) && !ext.some((n) => n.id === s.network_id));
  options($("#form-router").elements.subnets,
    subnets.map((s) => ({value: s.id, label: `${nameOf(s)} ${s.cidr}`})));
  const ports = res.ports.filter((p) => inScope(p) && (p.device_owner || "").startsWith("compute:")
    || inScope(p) && !p.device_owner);
  options($("#form-fip").elements.port, ports.map((p) => ({value: p.id, label: portLabel(p)})), "(none)");
  options($("#form-fip").elements.existing, res.floatingips.filter(inScope).map((f) => ({
    value: f.id, label: `${f.floating_ip_address}${f.fixed_ip_address ? " → " + f.fixed_ip_address : ""}`})),
  "(allocate a new one)");
  const groupChoices = groups.map((g) => ({value: g.id, label: `${g.name} ${short(g.id)}`}));
  options($("#form-rule").elements.group, groupChoices);
  options($("#form-rule").elements.remote_group, groupChoices, "(none)");
  const allPorts = res.ports.filter((p) => inScope(p) && !(p.device_owner || "").startsWith("network:"));
  options($("#form-explain").elements.port, allPorts.map((p) => ({value: p.id, label: portLabel(p)})));
}

function renderExplain(el, data) {
  const e = data.explain || {};
  replace(el,
    h("p", {class: `verdict ${e.verdict}`}, (e.verdict || "?").toUpperCase()),
    h("p", {class: "reason"}, e.reason || ""),
    h("ol", {class: "steps"}, (e.steps || []).map((s) => h("li", {},
      h("b", {}, s.kind || ""), " ", s.summary || "",
      s.ids && Object.keys(s.ids).length
        ? h("div", {class: "ids"}, Object.entries(s.ids).map(([k, v]) =>
          h("code", {}, `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)))
        : null))),
    e.raw ? h("pre", {class: "raw"}, e.raw) : null);
}

/** The explain form. A 404 (or 405) that is not PortNotFound means the route is not
 *  there (an older server): "explain not available". */
export function setupExplain(ctx) {
  const form = $("#form-explain");
  const out = $("#explain-result");
  form.onsubmit = async (event) => {
    event.preventDefault();
    const v = values(form);
    const body = {explain: {destination: v.destination, protocol: v.protocol,
      port: v.dport === "" ? null : Number(v.dport), raw: v.raw}};
    replace(out, "…");
    const {status, data} = await ctx.api().raw("POST", `/v2.0/ports/${encodeURIComponent(v.port)}/explain`, body);
    const err = (data && data.NeutronError) || {};
    if ((status === 404 && err.type !== "PortNotFound") || status === 405) {
      replace(out, h("p", {class: "muted unavailable"}, "explain not available"));
    } else if (status >= 200 && status < 300) {
      renderExplain(out, data);
    } else {
      replace(out, h("p", {class: "result error"}, err.message || `HTTP ${status}`));
    }
  };
}

export function explainFrom(portId) {
  $("#form-explain").elements.port.value = portId;
}
