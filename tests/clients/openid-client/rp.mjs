// A relying party written with openid-client, driving one tenant of the broker as its OpenID Provider:
// discovery, the authorization code flow with PKCE (the browser's redirects followed by fetch), the id_token
// validated by the library, userinfo, refresh, revocation and the end_session URL. Prints one JSON line of what
// it saw; any failure of the library's checks exits non-zero with the error.
//
//   node rp.mjs <issuer> <client_id> <client_secret> <redirect_uri> <post_logout_redirect_uri>
import * as client from 'openid-client';

const [issuer, clientId, clientSecret, redirectUri, postLogoutRedirectUri] = process.argv.slice(2);

// The tests run the broker over plain http on loopback.
const options = { execute: [client.allowInsecureRequests] };
const config = await client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(clientSecret), options);

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

// The browser: follow each redirect (broker -> upstream provider -> broker callback) until the app's redirect URI.
let next = authorizationUrl.href;
for (let hops = 0; !next.startsWith(redirectUri); hops++) {
  if (hops > 10) throw new Error(`too many redirects, at ${next}`);
  const response = await fetch(next, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (!location) throw new Error(`no redirect from ${next}: ${response.status} ${await response.text()}`);
  next = new URL(location, next).href;
}

const tokens = await client.authorizationCodeGrant(config, new URL(next), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const refreshedClaims = refreshed.claims();

await client.tokenRevocation(config, refreshed.refresh_token);
let refreshAfterRevocation = 'succeeded';
try {
  await client.refreshTokenGrant(config, refreshed.refresh_token);
} catch (error) {
  refreshAfterRevocation = error.error ?? error.code ?? String(error);
}

const endSessionUrl = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: postLogoutRedirectUri,
  state: 'bye',
});
const ended = await fetch(endSessionUrl, { redirect: 'manual' });

console.log(JSON.stringify({
  iss: claims.iss,
  sub: claims.sub,
  aud: claims.aud,
  sid: claims.sid,
  email: claims.email,
  userinfoSub: userinfo.sub,
  userinfoEmail: userinfo.email,
  refreshedSub: refreshedClaims.sub,
  rotated: refreshed.refresh_token !== tokens.refresh_token,
  refreshAfterRevocation,
  endStatus: ended.status,
  endLocation: ended.headers.get('location'),
}));
