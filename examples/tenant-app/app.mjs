// A tenant's app, in one file with nothing to install: it sends the browser to the broker to sign in,
// redeems the hand-off code from its back end with the tenant's API key, and shows the session.
//
//   API_KEY=<the tenant's key> node examples/tenant-app/app.mjs
//
// Settings (environment): API_KEY (required), BROKER_URL (http://localhost:5000), TENANT (acme),
// PORT (3000). Register http://localhost:PORT/auth/done as a return URL of the tenant.
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";

const broker = (process.env.BROKER_URL ?? "http://localhost:5000").replace(/\/$/, "");
const tenant = process.env.TENANT ?? "acme";
const apiKey = process.env.API_KEY;
const port = Number(process.env.PORT ?? 3000);
const self = `http://localhost:${port}`;
if (!apiKey) {
  console.error("Set API_KEY to the tenant's API key (the answer to POST /admin/tenants).");
  process.exit(2);
}

// The broker's tenant REST API, called from this back end only: the key never reaches the browser.
async function api(method, path, body) {
  const response = await fetch(`${broker}/api/tenants/${tenant}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

function cookies(request) {
  return Object.fromEntries((request.headers.cookie ?? "").split(";").filter(Boolean).map(c => c.trim().split("=").map(decodeURIComponent)));
}

const escape = s => String(s ?? "").replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
const localTime = iso => (iso ? new Date(iso).toLocaleString() : "—");

function page(response, body, status = 200, headers = {}) {
  response.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers });
  response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example app</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}
dt{font-weight:600;margin-top:.5rem}dd{margin:0}.muted{color:#666}.error{color:#b00020}
a.button,button{display:inline-block;padding:.5rem 1rem;margin:.75rem .5rem 0 0;font:inherit;border:1px solid #3b6ea5;
border-radius:4px;background:#3b6ea5;color:#fff;text-decoration:none;cursor:pointer}form{display:inline}</style></head>
<body><h1>Example app</h1><p class="muted">Tenant <code>${escape(tenant)}</code> of the broker at <code>${escape(broker)}</code>.</p>${body}</body></html>`);
}

const redirect = (response, location, headers = {}) => { response.writeHead(302, { location, ...headers }); response.end(); };

async function home(request, response, url) {
  const sid = cookies(request).sid;
  const notice = url.searchParams.get("notice");
  const banner = notice ? `<p data-testid="notice">${escape(notice)}</p>` : "";
  const session = sid ? await api("GET", `/sessions/${sid}`) : null;
  if (!session || session.status !== 200) {
    return page(response, `${banner}<p data-testid="signed-out">You are not signed in.</p><a class="button" data-testid="sign-in" href="/login">Sign in</a>`);
  }
  const s = session.json;
  page(response, `${banner}<dl data-testid="signed-in">
<dt>User</dt><dd data-testid="user-name">${escape(s.user.name ?? s.user.subject)}</dd>
<dt>E-mail</dt><dd>${escape(s.user.email ?? "—")}</dd>
<dt>Session id</dt><dd><code data-testid="session-id">${escape(s.sessionId)}</code></dd>
<dt>Status</dt><dd data-testid="session-status">${escape(s.status)}${s.endReason ? ` (${escape(s.endReason)})` : ""}</dd>
<dt>Access token expires</dt><dd>${localTime(s.accessTokenExpiresAt)}</dd>
<dt>Last refreshed</dt><dd>${s.refreshedAt ? localTime(s.refreshedAt) : "not yet"}</dd>
<dt>Session ends</dt><dd>${localTime(s.expiresAt)}</dd></dl>
<form method="post" action="/refresh"><button data-testid="refresh">Refresh tokens now</button></form>
<form method="post" action="/logout"><button data-testid="sign-out">Sign out</button></form>`);
}

// The state ties the code that comes back to this browser (RFC 6749 §10.12).
function login(response) {
  const state = randomBytes(16).toString("hex");
  const target = new URL(`${broker}/t/${tenant}/login`);
  target.searchParams.set("return_to", `${self}/auth/done`);
  target.searchParams.set("state", state);
  redirect(response, target.href, { "set-cookie": `state=${state}; HttpOnly; SameSite=Lax; Path=/; Max-Age=600` });
}

async function done(request, response, url) {
  const sent = cookies(request).state;
  const clear = "state=; Path=/; Max-Age=0";
  if (!sent || url.searchParams.get("state") !== sent)
    return page(response, `<p class="error">The sign-in came back with a state this browser did not send.</p><a class="button" href="/">Back</a>`, 400, { "set-cookie": clear });
  if (url.searchParams.has("error")) {
    const why = [url.searchParams.get("error"), url.searchParams.get("error_description")].filter(Boolean).join(": ");
    return page(response, `<p class="error" data-testid="error">Sign-in failed: ${escape(why)}</p><a class="button" href="/">Back</a>`, 200, { "set-cookie": clear });
  }
  // The hand-off code is good once, for 60 seconds: redeem it at once.
  const exchange = await api("POST", "/sessions/exchange", { code: url.searchParams.get("code") });
  if (exchange.status !== 200)
    return page(response, `<p class="error">The broker refused the code (${exchange.status} ${escape(exchange.json?.title)}).</p><a class="button" href="/">Back</a>`, 502, { "set-cookie": clear });
  redirect(response, "/", { "set-cookie": [clear, `sid=${exchange.json.sessionId}; HttpOnly; SameSite=Lax; Path=/`] });
}

const server = createServer(async (request, response) => {
  const url = new URL(request.url, self);
  try {
    if (request.method === "GET" && url.pathname === "/") return await home(request, response, url);
    if (request.method === "GET" && url.pathname === "/login") return login(response);
    if (request.method === "GET" && url.pathname === "/auth/done") return await done(request, response, url);
    const sid = cookies(request).sid;
    if (request.method === "POST" && url.pathname === "/refresh" && sid) {
      await api("POST", `/sessions/${sid}/refresh`);
      return redirect(response, "/");
    }
    if (request.method === "POST" && url.pathname === "/logout") {
      if (sid) await api("DELETE", `/sessions/${sid}`);
      return redirect(response, "/?notice=" + encodeURIComponent("You are signed out."), { "set-cookie": "sid=; Path=/; Max-Age=0" });
    }
    response.writeHead(404, { "content-type": "text/plain" }).end("Not found");
  } catch (error) {
    console.error(error);
    page(response, `<p class="error">The broker could not be reached at ${escape(broker)}.</p>`, 502);
  }
});

server.listen(port, "localhost", () => console.log(`Example app for tenant ${tenant}: ${self}/`));
