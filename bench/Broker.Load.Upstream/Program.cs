using System.Globalization;
using Broker.Load.Upstream;

// Broker.Load.Upstream oidc|bare PORT
//   oidc: the fast OpenID Provider (OidcEndpoints); BROKER_LOAD_UPSTREAM_KEY (base64, 32 bytes) seals its
//         codes and tokens, BROKER_LOAD_CLIENT_SECRET is the only client secret it takes,
//         BROKER_LOAD_ACCESS_TOKEN_SECONDS (default 3600) how long its access tokens live.
//   bare: every request answers 302, nothing else: the ceiling of the HTTP client and Kestrel here.
// Prints "listening on http://127.0.0.1:PORT" once it serves.
if (args is not [("oidc" or "bare") and var mode, var portText] || !int.TryParse(portText, CultureInfo.InvariantCulture, out var port))
{
    Console.Error.WriteLine("usage: Broker.Load.Upstream oidc|bare PORT");
    return 2;
}
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
var app = builder.Build();
var issuer = $"http://127.0.0.1:{port}";
if (mode == "bare")
{
    app.Run(context =>
    {
        context.Response.StatusCode = 302;
        context.Response.Headers.Location = "http://127.0.0.1:9/next";
        return Task.CompletedTask;
    });
}
else
{
    var key = Convert.FromBase64String(Environment.GetEnvironmentVariable("BROKER_LOAD_UPSTREAM_KEY") ?? throw new InvalidOperationException("BROKER_LOAD_UPSTREAM_KEY is required"));
    var secret = Environment.GetEnvironmentVariable("BROKER_LOAD_CLIENT_SECRET") ?? throw new InvalidOperationException("BROKER_LOAD_CLIENT_SECRET is required");
    var ttl = int.Parse(Environment.GetEnvironmentVariable("BROKER_LOAD_ACCESS_TOKEN_SECONDS") ?? "3600", CultureInfo.InvariantCulture);
    new OidcEndpoints(issuer, secret, new SealedTokens(key), new IdTokens(), ttl).Map(app);
}
await app.StartAsync();
Console.WriteLine($"listening on {issuer}");
await app.WaitForShutdownAsync();
return 0;
