// Who the page acts as. keystone: POST /dashboard/login exchanges the user's own
// credentials for a token (kept in sessionStorage: this tab only, gone when it closes);
// noauth: the noauth identity headers, with a project and a role chosen here.

import {$, h, options} from "./dom.js";

const KEY = "neutrino.dashboard.identity";

export function savedIdentity(config) {
  try {
    const id = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (!id || id.mode !== config.auth_strategy) return null;
    if (id.mode === "keystone" && Date.parse(id.expires_at) <= Date.now()) return null;
    return id;
  } catch { return null; }
}

export function forget() { sessionStorage.removeItem(KEY); }

function remember(identity) { sessionStorage.setItem(KEY, JSON.stringify(identity)); }

/** Project ids seen in the cloud, for the noauth project chooser (asked as the
 *  operator: noauth without X-Project-Id is the admin of noauth_project). */
async function knownProjects(config) {
  const ids = new Set([config.noauth_project]);
  for (const collection of ["networks", "routers", "ports", "security-groups"]) {
    try {
      const resp = await fetch(`/v2.0/${collection}?fields=project_id`, {cache: "no-store"});
      if (resp.ok) {
        const body = await resp.json();
        for (const item of Object.values(body)[0] || []) if (item.project_id) ids.add(item.project_id);
      }
    } catch { /* the chooser still takes a typed project id */ }
  }
  return [...ids].sort();
}

/** Show the login form for the configured auth strategy; resolves to the identity. */
export function login(config) {
  const section = $("#login");
  section.hidden = false;
  $("#app").hidden = true;
  const keystone = config.auth_strategy === "keystone";
  $("#keystone-login").hidden = !keystone;
  $("#noauth-login").hidden = keystone;
  return new Promise((resolve) => {
    const done = (identity) => {
      remember(identity);
      section.hidden = true;
      resolve(identity);
    };
    if (keystone) keystoneForm(done);
    else noauthForm(config, done);
  });
}

function keystoneForm(done) {
  const form = $("#keystone-login");
  const error = $("#login-error");
  form.onsubmit = async (event) => {
    event.preventDefault();
    error.textContent = "";
    const fields = Object.fromEntries(new FormData(form).entries());
    const resp = await fetch("login", {
      method: "POST", cache: "no-store", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(fields)});
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      error.textContent = (body.NeutronError && body.NeutronError.message) || `HTTP ${resp.status}`;
      return;
    }
    form.elements.password.value = "";
    done({mode: "keystone", token: body.token, expires_at: body.expires_at, user: body.user,
          project: body.project, roles: body.roles});
  };
}

function noauthForm(config, done) {
  const form = $("#noauth-login");
  form.elements.project.placeholder = config.noauth_project;
  knownProjects(config).then((ids) =>
    options($("#noauth-projects"), ids.map((p) => ({value: p, label: p}))));
  form.onsubmit = (event) => {
    event.preventDefault();
    const project = form.elements.project.value.trim() || config.noauth_project;
    const role = form.elements.role.value;
    const roles = {admin: ["admin", "member", "reader"], member: ["member", "reader"],
                   reader: ["reader"]}[role];
    done({mode: "noauth", project: {id: project, name: project}, roles,
          user: {id: null, name: `noauth ${role}`}});
  };
}

export function describe(identity) {
  const who = (identity.user && identity.user.name) || "";
  const project = identity.project.name || identity.project.id;
  return h("span", {}, who, " · project ", h("b", {}, project), " · ", identity.roles.join(", "));
}
