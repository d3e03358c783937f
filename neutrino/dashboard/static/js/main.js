// The dashboard page: log in, then poll the API every few seconds and redraw only
// what changed (graph, security groups, the selected node's details, form choices).

import {Api} from "./api.js";
import {describe, forget, login, savedIdentity} from "./auth.js";
import {$, options, replace} from "./dom.js";
import {explainFrom, fillChoices, setupActions, setupExplain} from "./forms.js";
import {showDetails, showSecurityGroups} from "./panels.js";
import {TopologyView, buildElements, fetchResources} from "./topology.js";

const state = {config: null, api: null, view: null, scope: null, res: null, index: new Map(),
               groups: [], groupsSig: "", selected: null, timer: null, polling: false,
               again: false};

function setStatus(text, error = false) {
  const el = $("#status");
  el.textContent = text;
  el.className = error ? "error" : "";
}

function onUnauthorized() {
  forget();
  clearTimeout(state.timer);
  location.reload();
}

function projectsOf(res) {
  const ids = new Set();
  for (const list of [res.networks, res.routers, res.ports, res.floatingips]) {
    for (const r of list) if (r.project_id && !r["router:external"]) ids.add(r.project_id);
  }
  return [...ids].sort();
}

function fillScope() {
  const api = state.api;
  const own = api.projectId;
  const choices = [{value: own, label: `${api.identity.project.name || own} (mine)`}];
  if (api.isAdmin) {
    choices.push({value: "all", label: "all projects"});
    for (const p of state.res ? projectsOf(state.res) : []) {
      if (p !== own) choices.push({value: p, label: p});
    }
  }
  const select = $("#scope");
  options(select, choices);
  select.value = state.scope;
  select.disabled = !api.isAdmin;
}

async function renderDetails() {
  const entry = state.selected && state.index.get(state.selected);
  const el = $("#details");
  if (!entry) {
    replace(el, $("#details-help").content.cloneNode(true));
    return;
  }
  await showDetails(el, state.api, entry[0], entry[1], state.res, state.scope, {
    explainFrom: (id) => { explainFrom(id); showTab("explain"); }});
}

async function poll() {
  clearTimeout(state.timer);
  if (state.polling) {  // one at a time: the running one polls again as soon as it ends
    state.again = true;
    return;
  }
  state.polling = true;
  state.again = false;
  try {
    const scope = state.scope;
    const [res, groups] = await Promise.all([fetchResources(state.api, scope),
      state.api.list("security-groups", state.api.isAdmin && scope !== "all" ? {project_id: scope} : {})]);
    if (scope !== state.scope) return;  // the chooser moved meanwhile: the next poll redraws
    state.res = res;
    const {elements, index} = buildElements(res, scope);
    state.index = index;
    const groupsSig = JSON.stringify(groups);
    const graphChanged = state.view.update(elements);
    if (graphChanged || groupsSig !== state.groupsSig) {
      state.groupsSig = groupsSig;
      state.groups = await showSecurityGroups($("#security-groups"), state.api, scope);
      fillChoices(res, state.groups, scope);
      fillScope();
      await renderDetails();
    }
    setStatus(`${elements.filter((e) => e.group === "nodes").length} objects · ` +
              `updated ${new Date().toLocaleTimeString()}`);
  } catch (err) {
    setStatus(err.message, true);
  } finally {
    state.polling = false;
    state.timer = setTimeout(poll, state.again ? 0 : state.config.poll_seconds * 1000);
  }
}

function showTab(name) {
  for (const btn of document.querySelectorAll("#tabs button")) {
    btn.classList.toggle("active", btn.dataset.tab === name);
  }
  for (const section of document.querySelectorAll(".tab")) section.hidden = section.id !== `tab-${name}`;
}

function enter(identity) {
  state.api = new Api(identity, onUnauthorized);
  state.scope = identity.project.id;
  $("#app").hidden = false;
  replace($("#identity"), describe(identity));
  $("#logout").hidden = false;
  $("#scope-label").hidden = false;
  $("#logout").onclick = () => { forget(); location.reload(); };
  state.view = new TopologyView($("#graph"), (id) => {
    state.selected = id;
    state.view.select(id);
    if (id) showTab("details");
    renderDetails();
  });
  window.neutrinoDashboard = state;  // for the e2e test and the curious
  fillScope();
  $("#scope").onchange = (event) => {
    state.scope = event.target.value;
    state.selected = null;
    state.groupsSig = "";
    state.view.signature = "";
    poll();
  };
  for (const btn of document.querySelectorAll("#tabs button")) btn.onclick = () => showTab(btn.dataset.tab);
  $("#fit").onclick = () => state.view.resize();
  const ctx = {
    api: () => state.api,
    targetProject: () => (state.api.isAdmin && state.scope !== "all" && state.scope !== state.api.projectId
      ? state.scope : null),
    refresh: () => poll(),
  };
  setupActions(ctx);
  setupExplain(ctx);
  showTab("details");
  poll();
}

async function start() {
  state.config = await (await fetch("config.json", {cache: "no-store"})).json();
  $("#auth-mode").textContent = state.config.auth_strategy;
  const identity = savedIdentity(state.config) || await login(state.config);
  enter(identity);
}

start().catch((err) => setStatus(`dashboard failed to start: ${err.message}`, true));
