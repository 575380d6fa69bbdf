// panva/oidc-provider (a certified OpenID Provider) on loopback, as a real third-party upstream
// for Broker's connector tests (tests/Broker.Testing/Upstreams/NodeOidcProvider.cs starts it).
//
//   node server.mjs [--port N] [--config JSON]
//
// The port also comes from $PORT (0, the default, picks a free one). The configuration JSON
// also comes from $OIDC_PROVIDER_CONFIG; every member is optional:
//   { "client_id", "client_secret", "redirect_uris": [], "post_logout_redirect_uris": [],
//     "token_endpoint_auth_method": "client_secret_basic" | "client_secret_post",
//     "access_token_ttl": seconds }
// $ACCESS_TOKEN_TTL (seconds, default 60) sets the access-token lifetime when the JSON does not.
//
// Once listening it prints one line, `LISTENING http://127.0.0.1:<port>`, on stdout; that URL is
// the issuer. SIGTERM or SIGINT closes the server and exits 0.
//
// Users: the development login form (features.devInteractions) accepts any login and password;
// the account is sub = login, name = the login capitalised, email = login@example.test.
//
// What oidc-provider does that a client must live with (kept as it is, that is the point):
// - offline_access is dropped from a request without prompt=consent (OIDC Core §11); such a
//   request then shows the consent page. Refresh tokens are issued either way (issueRefreshToken).
// - reusing a rotated refresh token revokes the whole grant, the newest refresh token with it.
// - a refresh answer carries an id_token again, with the first login's nonce.
// - on Node 20 it warns "Unsupported runtime" on stderr (it tests on 22+); it runs all the same.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    config: { type: 'string' },
  },
});

const config = JSON.parse(args.config ?? process.env.OIDC_PROVIDER_CONFIG ?? '{}');
const port = Number(args.port ?? process.env.PORT ?? 0);
const accessTokenTtl = Number(config.access_token_ttl ?? process.env.ACCESS_TOKEN_TTL ?? 60);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new Error(`invalid port: ${args.port ?? process.env.PORT}`);
}
if (!Number.isInteger(accessTokenTtl) || accessTokenTtl <= 0) {
  throw new Error(`invalid access token TTL: ${accessTokenTtl}`);
}

const client = {
  client_id: config.client_id ?? 'broker-test',
  client_secret: config.client_secret ?? 'broker-test-secret',
  redirect_uris: config.redirect_uris ?? ['https://broker.example/t/acme/callback'],
  post_logout_redirect_uris: config.post_logout_redirect_uris ?? [],
  // oidc-provider holds a client to the one method it registered (RFC 7591 §2).
  token_endpoint_auth_method: config.token_endpoint_auth_method ?? 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

// A fresh signing key per process, so no key material lives in the repository.
const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

// The HTTP server listens first: with port 0 the issuer is only known once it is bound.
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const days = 24 * 60 * 60;
const provider = new Provider(issuer, {
  clients: [client],
  responseTypes: ['code'],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: {
    // The built-in login and consent pages; any login is accepted.
    devInteractions: { enabled: true },
    revocation: {
      enabled: true,
      allowedPolicy: async (ctx, caller, token) => token.clientId === caller.clientId,
    },
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, caller, token) => token.clientId === caller.clientId,
    },
    rpInitiatedLogout: {
      enabled: true,
      // Plain pages (the defaults load a web font): `form` carries the xsrf field; its confirm
      // button is named logout=yes.
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html><head><title>Sign out</title></head><body>
<h1>Sign out of ${ctx.host}?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
</body></html>`;
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = '<!DOCTYPE html><html><head><title>Signed out</title></head><body><h1>Signed out</h1></body></html>';
      },
    },
  },
  // Every client must send a PKCE S256 challenge (oidc-provider only knows S256).
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
  },
  scopes: ['openid', 'offline_access'],
  // Put the scope-granted claims into the id_token too, not only into userinfo.
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: id.charAt(0).toUpperCase() + id.slice(1),
          email: `${id}@example.test`,
          email_verified: true,
        };
      },
    };
  },
  // No consent screen: a signed-in user's grant is created (or widened) with whatever OIDC
  // scopes and claims the request asks for. A request with prompt=consent still shows the page.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    const grant = (grantId && await oidc.provider.Grant.find(grantId))
      || new oidc.provider.Grant({ accountId: oidc.account.accountId, clientId: oidc.client.clientId });
    grant.addOIDCScope(oidc.requestParamOIDCScopes);
    grant.addOIDCClaims(oidc.requestParamClaims);
    await grant.save();
    return grant;
  },
  // Refresh tokens for every code grant of a client allowed to refresh, with or without
  // offline_access (which oidc-provider keeps only when the request also has prompt=consent).
  issueRefreshToken: async (ctx, refreshClient) => refreshClient.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 60 * 60,
    RefreshToken: 14 * days,
    Interaction: 10 * 60,
    Session: 14 * days,
    Grant: 14 * days,
  },
  async renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

provider.on('server_error', (ctx, error) => console.error('server_error', error));
server.on('request', provider.callback());
process.stdout.write(`LISTENING ${issuer}\n`);

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
