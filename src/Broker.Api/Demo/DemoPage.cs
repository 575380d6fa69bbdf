using System.Text;
using Microsoft.AspNetCore.Http;

namespace Broker.Api.Demo;

/// <summary>The demo app's one page: sign in, see who you are and your token's expiry count down, refresh, sign out.</summary>
internal static class DemoPage
{
    public static IResult Render() => Results.Content(Template, "text/html; charset=utf-8", Encoding.UTF8);

    // The sign-in is the back end's (/demo/signin and /demo/callback check state, issuer and nonce); the page
    // shows what the back end reads from the broker, and an error the sign-in came back with.
    private const string Template = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Demo app</title>
        <meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="/favicon.svg" type="image/svg+xml">
        <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222;line-height:1.4}
        dt{font-weight:600;margin-top:.5rem}dd{margin:0}.muted{color:#666}.error{color:#b00020}.notice{color:#1b5e20}
        button,a.button{display:inline-block;padding:.5rem 1rem;margin:.75rem .5rem 0 0;font:inherit;border:1px solid #3b6ea5;
        border-radius:4px;background:#3b6ea5;color:#fff;text-decoration:none;cursor:pointer}
        button.secondary{background:#fff;color:#3b6ea5}img{border-radius:50%;vertical-align:middle}</style></head>
        <body>
        <h1>Demo app</h1>
        <p class="muted">A tenant app played by the broker. It signs in through the demo tenant's OpenID Provider (<code>/t/demo</code>) with the development IdP.</p>
        <p class="error" data-testid="error" hidden></p>
        <p class="notice" data-testid="signed-out-notice" hidden>You are signed out; the session ended and its tokens were revoked at the IdP.</p>
        <section data-testid="signed-out" hidden>
          <p>You are not signed in.</p>
          <a class="button" data-testid="sign-in" href="/demo/signin">Sign in</a>
        </section>
        <section data-testid="signed-in" hidden>
          <p><img data-testid="user-avatar" alt="" width="48" height="48"> <strong data-testid="user-name"></strong></p>
          <dl>
            <dt>E-mail</dt><dd data-testid="user-email"></dd>
            <dt>Subject</dt><dd data-testid="user-subject"></dd>
            <dt>Session</dt><dd><span data-testid="session-status"></span> <span data-testid="session-end-reason"></span></dd>
            <dt>Access token expires in</dt><dd><span data-testid="token-expires-in"></span> <span class="muted" data-testid="token-expires-at"></span></dd>
            <dt>Last refreshed</dt><dd data-testid="refreshed-at"></dd>
          </dl>
          <button type="button" data-testid="refresh-now">Refresh now</button>
          <form method="post" action="/demo/logout" style="display:inline" data-testid="sign-out-form"><button type="submit" class="secondary" data-testid="sign-out">Sign out</button></form>
        </section>
        <script>
        const $ = id => document.querySelector(`[data-testid="${id}"]`);
        let session = null;

        function showError(text) { $("error").textContent = text; $("error").hidden = !text; }

        // In the reader's own zone and format, to the second.
        const localTime = iso => new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });

        function render() {
          $("signed-out").hidden = !!session && session.status === "active";
          $("signed-in").hidden = !session;
          if (!session) return;
          $("user-name").textContent = session.user.name || session.user.subject;
          $("user-email").textContent = session.user.email || "(none)";
          $("user-subject").textContent = session.user.subject;
          $("user-avatar").src = session.user.avatarUrl || "";
          $("session-status").textContent = session.status;
          $("session-end-reason").textContent = session.endReason ? `(${session.endReason})` : "";
          $("refreshed-at").textContent = session.refreshedAt ? localTime(session.refreshedAt) : "not yet";
          $("token-expires-at").textContent = session.accessTokenExpiresAt ? `(at ${localTime(session.accessTokenExpiresAt)})` : "";
          tick();
        }

        function tick() {
          if (!session || !session.accessTokenExpiresAt) { $("token-expires-in").textContent = "unknown"; return; }
          const seconds = Math.round((Date.parse(session.accessTokenExpiresAt) - Date.now()) / 1000);
          $("token-expires-in").textContent = seconds > 0 ? `${seconds} s` : "expired (waiting for refresh)";
        }

        async function call(method, path, body) {
          const response = await fetch(path, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
          const json = await response.json().catch(() => null);
          if (response.ok) return json;
          if (response.status !== 401 && response.status !== 404) showError(json?.title || `The broker answered ${response.status}.`);
          return null;
        }

        // Asked every 5 s while signed in (the session refreshes itself; the page shows it), not while signed out.
        let polling = null;
        async function poll() {
          session = await call("GET", "/demo/session");
          render();
          if (session && !polling) polling = setInterval(poll, 5000);
          if (!session && polling) { clearInterval(polling); polling = null; }
        }

        async function start() {
          const query = new URLSearchParams(location.search);
          if (query.has("error")) {
            history.replaceState(null, "", location.pathname);
            showError(`Sign-in failed: ${query.get("error")}` + (query.get("error_description") ? ` (${query.get("error_description")})` : ""));
          }
          if (sessionStorage.getItem("demo-signed-out")) {
            sessionStorage.removeItem("demo-signed-out");
            $("signed-out-notice").hidden = false;
          }
          await poll();
          setInterval(tick, 1000);
        }

        $("sign-out-form").addEventListener("submit", () => sessionStorage.setItem("demo-signed-out", "1"));
        $("refresh-now").addEventListener("click", async () => { const view = await call("POST", "/demo/refresh"); if (view) { session = view; render(); } });
        start();
        </script>
        </body></html>
        """;
}
