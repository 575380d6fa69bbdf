namespace Broker.Api;

/// <summary>What the HTTP front end needs from the silo's configuration, parsed and checked at start.</summary>
public sealed record BrokerApiOptions
{
    /// <summary>The largest JSON body read (docs/design.md §6); anything bigger is a 413.</summary>
    public const int MaxJsonBodyBytes = 64 * 1024;

    /// <summary>The operator's bearer token (<c>Broker:AdminToken</c>); acts on /admin and on every tenant's REST routes.</summary>
    public required string AdminToken { get; init; }

    /// <summary>Tokens still accepted while the admin token is rotated (<c>Broker:PreviousAdminTokens</c>), so
    /// that silos on the old and the new configuration both take the token the operators use.</summary>
    public IReadOnlyList<string> PreviousAdminTokens { get; init; } = [];

    /// <summary>Where browsers reach the broker, with a trailing slash (<c>Broker:PublicBaseUrl</c>).</summary>
    public required Uri PublicBaseUrl { get; init; }

    /// <summary>Requests per minute per client IP on each of login, callback and exchange; 0 turns limiting off.</summary>
    public int RateLimitPermitsPerMinute { get; init; } = 60;

    /// <summary>Serve the built-in development IdP under <c>/dev-idp</c>.</summary>
    public bool DevIdpEnabled { get; init; }

    /// <summary>Seed the <c>demo</c> tenant and serve the demo app page under <c>/demo/</c>.</summary>
    public bool DemoEnabled { get; init; }

    /// <summary>Exchanges per minute per tenant (its back end calls from one address); 0 turns limiting off.</summary>
    public int ExchangePermitsPerMinute { get; init; } = 6000;

    /// <summary>The port of the management listener (<c>Broker:Management:Port</c>): /metrics is served there
    /// and only there, and it serves nothing but /metrics, /healthz and /readyz. Null: no such listener.</summary>
    public int? ManagementPort { get; init; }

    /// <summary>An absolute URL below <see cref="PublicBaseUrl"/>.</summary>
    public string Url(string relative) => new Uri(PublicBaseUrl, relative).AbsoluteUri;
}
