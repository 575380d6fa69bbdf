using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Broker.Testing.Upstreams;

/// <summary>The user a <see cref="FakeOidcProvider"/> signs in.</summary>
public sealed record FakeUser(string Subject, string? Name = null, string? Email = null, string? Picture = null);

/// <summary>
/// A real OpenID Connect provider on 127.0.0.1 with a random port, for tests over real HTTP:
/// discovery, JWKS (RSA + EC, rotatable), an authorize endpoint that approves at once, token
/// (authorization_code with PKCE, rotating refresh tokens with reuse detection), userinfo,
/// revocation, introspection and end_session. Every request is recorded; each endpoint can be
/// told to fail (<see cref="FailNext"/>); id_tokens can be forged (<see cref="IdTokenOverride"/>).
/// </summary>
public sealed partial class FakeOidcProvider : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private readonly ConcurrentDictionary<FakeEndpoint, ConcurrentQueue<FakeFailure>> failures = new();

    private FakeOidcProvider(WebApplication app, TimeProvider clock)
    {
        this.app = app;
        Clock = clock;
    }

    /// <summary>The issuer: <c>http://127.0.0.1:{port}</c>, without a trailing slash.</summary>
    public string Issuer { get; private set; } = "";

    /// <summary>The client this provider knows.</summary>
    public string ClientId { get; set; } = "test-client";

    /// <summary>That client's secret; checked when the client sends one.</summary>
    public string ClientSecret { get; set; } = "test-secret";

    /// <summary>Who the authorize endpoint signs in.</summary>
    public FakeUser User { get; set; } = new("user-1", "Test User", "user1@example.com", "https://example.com/u1.png");

    /// <summary>The signing keys.</summary>
    public FakeSigningKeys Keys { get; } = new();

    /// <summary>The clock for token lifetimes and id_token <c>iat</c>/<c>exp</c>.</summary>
    public TimeProvider Clock { get; }

    /// <summary>The access-token lifetime announced as <c>expires_in</c>. Default 1 h.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Send <c>expires_in</c> as a JSON string, as QQ does.</summary>
    public bool ExpiresInAsString { get; set; }

    /// <summary>Issue a new refresh token at each refresh and refuse reuse of the old one. Default true.</summary>
    public bool RotateRefreshTokens { get; set; } = true;

    /// <summary>Whether the code grant hands out a refresh token (providers without offline access do not).</summary>
    public bool IssueRefreshTokens { get; set; } = true;

    /// <summary>Also send a fresh id_token (without nonce) in refresh responses (OIDC Core §12.2).</summary>
    public bool IdTokenOnRefresh { get; set; }

    /// <summary>The alg the default id_token is signed with (RS256, PS256 or ES256).</summary>
    public string IdTokenAlgorithm { get; set; } = "RS256";

    /// <summary>Replaces id_token minting: gets the default claims (mutable) and returns the token to send.</summary>
    public Func<JsonObject, string>? IdTokenOverride { get; set; }

    /// <summary>Extra or replaced members of the userinfo answer (e.g. another <c>sub</c>).</summary>
    public JsonObject UserinfoExtra { get; set; } = [];

    /// <summary>Leave <c>userinfo_endpoint</c> out of discovery.</summary>
    public bool PublishUserinfo { get; set; } = true;

    /// <summary>Every request received, in order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => requests.ToArray();

    /// <summary>Requests received at one path (e.g. <c>/token</c>).</summary>
    public IReadOnlyList<RecordedRequest> RequestsTo(string path) => requests.Where(r => r.Path == path).ToArray();

    /// <summary>Starts the provider on a free port.</summary>
    public static async Task<FakeOidcProvider> StartAsync(TimeProvider? clock = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSetting(WebHostDefaults.SuppressStatusMessagesKey, "true");
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        var provider = new FakeOidcProvider(app, clock ?? TimeProvider.System);
        provider.Map();
        await app.StartAsync();
        provider.Issuer = app.Urls.First().TrimEnd('/');
        return provider;
    }

    /// <summary>Makes the next call to <paramref name="endpoint"/> fail as described; queue several for several calls.</summary>
    public void FailNext(FakeEndpoint endpoint, FakeFailure failure) =>
        failures.GetOrAdd(endpoint, _ => new ConcurrentQueue<FakeFailure>()).Enqueue(failure);

    /// <summary>A connection to this provider as the broker would store it.</summary>
    public Broker.Grains.Connectors.ConnectionConfig OidcConnection(string authMethod = "client_secret_basic") => new()
    {
        Id = "fake-oidc",
        Type = "oidc",
        ClientId = ClientId,
        ClientSecret = authMethod == "none" ? null : ClientSecret,
        Issuer = Issuer,
        TokenEndpointAuthMethod = authMethod,
    };

    /// <summary>A connection using this provider's endpoints as plain OAuth 2.0.</summary>
    public Broker.Grains.Connectors.ConnectionConfig OAuth2Connection(string authMethod = "client_secret_basic") => new()
    {
        Id = "fake-oauth2",
        Type = "oauth2",
        ClientId = ClientId,
        ClientSecret = authMethod == "none" ? null : ClientSecret,
        TokenEndpointAuthMethod = authMethod,
        Endpoints = new()
        {
            Authorize = $"{Issuer}/authorize",
            Token = $"{Issuer}/token",
            Userinfo = $"{Issuer}/userinfo",
            Revocation = $"{Issuer}/revoke",
            Introspection = $"{Issuer}/introspect",
            Logout = $"{Issuer}/end-session",
        },
    };

    /// <summary>The claims of a valid id_token for <see cref="User"/>, to tweak and sign in tests.</summary>
    public JsonObject DefaultIdTokenClaims(string? nonce)
    {
        var now = Clock.GetUtcNow().ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = User.Subject,
            ["aud"] = ClientId,
            ["iat"] = now,
            ["exp"] = now + 300,
            ["name"] = User.Name,
            ["email"] = User.Email,
        };
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        return claims;
    }

    /// <summary>Stops the server; requests left hanging are released.</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await app.StopAsync();
        await app.DisposeAsync();
        Keys.Dispose();
        stopping.Dispose();
    }

    private void Map()
    {
        app.Use(async (context, next) =>
        {
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : null;
            requests.Enqueue(new RecordedRequest(
                context.Request.Method,
                context.Request.Path.Value ?? "",
                context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()),
                form?.ToDictionary(f => f.Key, f => f.Value.ToString()) ?? [],
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            await next();
        });

        app.MapGet("/.well-known/openid-configuration", (HttpRequest r) => WithFailures(r.HttpContext, FakeEndpoint.Discovery, () => Results.Json(Discovery())));
        app.MapGet("/jwks", (HttpRequest r) => WithFailures(r.HttpContext, FakeEndpoint.Jwks, () => Results.Json(Keys.ToJwks())));
        app.MapGet("/authorize", (HttpRequest r) => Authorize(r.Query));
        app.MapPost("/token", async (HttpRequest r) =>
        {
            var refresh = r.Form["grant_type"] == "refresh_token";
            var delay = refresh ? RefreshDelay : r.Form["grant_type"] == "authorization_code" ? CodeExchangeDelay : TimeSpan.Zero;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            if (!refresh)
                return await WithFailures(r.HttpContext, FakeEndpoint.Token, () => Token(r));

            var inFlight = Interlocked.Increment(ref refreshesInFlight);
            try
            {
                for (var most = mostRefreshesInFlight; inFlight > most; most = mostRefreshesInFlight)
                    Interlocked.CompareExchange(ref mostRefreshesInFlight, inFlight, most);
                if (HoldRefreshes is { } hold)
                    await hold.WaitAsync(stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                return await WithFailures(r.HttpContext, FakeEndpoint.Token, () => Token(r));
            }
            finally
            {
                Interlocked.Decrement(ref refreshesInFlight);
            }
        });
        app.MapMethods("/userinfo", ["GET", "POST"], (HttpRequest r) => WithFailures(r.HttpContext, FakeEndpoint.Userinfo, () => Userinfo(r)));
        app.MapPost("/revoke", (HttpRequest r) => WithFailures(r.HttpContext, FakeEndpoint.Revocation, () => Revoke(r)));
        app.MapPost("/introspect", (HttpRequest r) => WithFailures(r.HttpContext, FakeEndpoint.Introspection, () => Introspect(r)));
        app.MapMethods("/end-session", ["GET", "POST"], () => Results.Text("signed out"));
    }

    private JsonObject Discovery()
    {
        var document = new JsonObject
        {
            ["issuer"] = Issuer,
            ["authorization_endpoint"] = $"{Issuer}/authorize",
            ["token_endpoint"] = $"{Issuer}/token",
            ["jwks_uri"] = $"{Issuer}/jwks",
            ["revocation_endpoint"] = $"{Issuer}/revoke",
            ["introspection_endpoint"] = $"{Issuer}/introspect",
            ["end_session_endpoint"] = $"{Issuer}/end-session",
            ["response_types_supported"] = new JsonArray("code"),
            ["subject_types_supported"] = new JsonArray("public"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256", "PS256", "ES256"),
            ["code_challenge_methods_supported"] = new JsonArray("S256"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_basic", "client_secret_post", "none"),
        };
        if (PublishUserinfo)
        {
            document["userinfo_endpoint"] = $"{Issuer}/userinfo";
        }

        return document;
    }

    private async Task<IResult> WithFailures(HttpContext context, FakeEndpoint endpoint, Func<IResult> answer) =>
        failures.TryGetValue(endpoint, out var queue) && queue.TryDequeue(out var failure)
            ? await failure.AnswerAsync(context, stopping.Token)
            : answer();
}
