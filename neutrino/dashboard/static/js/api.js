// The Networking API as the logged-in user: X-Auth-Token (keystone) or the noauth
// identity headers (X-Project-Id, X-Roles). Nothing here ever puts a token in a URL.

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.type = type || "";
  }
}

export class Api {
  /** identity: {mode: "keystone", token, project: {id, name}, roles: [...]} or
   *  {mode: "noauth", project: {id}, roles: [...]}. onUnauthorized: called on a 401. */
  constructor(identity, onUnauthorized = () => {}) {
    this.identity = identity;
    this.onUnauthorized = onUnauthorized;
  }

  get isAdmin() { return this.identity.roles.includes("admin"); }
  get projectId() { return this.identity.project.id; }

  headers() {
    const hdrs = {"Accept": "application/json"};
    if (this.identity.mode === "keystone") hdrs["X-Auth-Token"] = this.identity.token;
    else {
      hdrs["X-Project-Id"] = this.identity.project.id;
      hdrs["X-Roles"] = this.identity.roles.join(",");
    }
    return hdrs;
  }

  /** -> {status, data}; never throws for an HTTP status (network errors do throw). */
  async raw(method, path, body) {
    const init = {method, headers: this.headers(), cache: "no-store", credentials: "omit"};
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    const resp = await fetch(path, init);
    let data = null;
    const text = await resp.text();
    if (text) { try { data = JSON.parse(text); } catch { data = {text}; } }
    if (resp.status === 401) this.onUnauthorized();
    return {status: resp.status, data};
  }

  /** The body of a 2xx answer; an ApiError with Neutron's type and message otherwise. */
  async call(method, path, body) {
    const {status, data} = await this.raw(method, path, body);
    if (status >= 200 && status < 300) return data;
    const err = (data && data.NeutronError) || (data && data.error) || {};
    throw new ApiError(status, err.type || err.title, err.message || `HTTP ${status}`);
  }

  /** GET /v2.0/<collection>?params -> the items. */
  async list(collection, params = {}) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      for (const one of [].concat(v)) if (one !== undefined && one !== null) query.append(k, one);
    }
    const qs = query.toString();
    const data = await this.call("GET", `/v2.0/${collection}${qs ? "?" + qs : ""}`);
    const key = Object.keys(data).find((k) => Array.isArray(data[k]));
    return key ? data[key] : [];
  }

  get(path) { return this.call("GET", path); }
  post(path, body) { return this.call("POST", path, body); }
  put(path, body) { return this.call("PUT", path, body); }
  del(path) { return this.call("DELETE", path); }
}
