namespace Broker.Api.DevIdp;

/// <summary>
/// Settings of the built-in development IdP (section <c>Broker:DevIdp</c> by convention). The
/// composition root decides whether to call <see cref="DevIdpEndpoints.MapDevIdp"/>: only in
/// Development or when <see cref="Enabled"/> is set; it is never meant for production.
/// </summary>
public sealed record DevIdpOptions
{
    /// <summary>Serve the dev IdP outside Development. Default false.</summary>
    public bool Enabled { get; init; }

    /// <summary>Access-token lifetime; short so a demo shows refreshes. Default 120 s.</summary>
    public TimeSpan AccessTokenLifetime { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Authorization-code lifetime (RFC 6749 §4.1.2 recommends at most 10 min). Default 60 s.</summary>
    public TimeSpan CodeLifetime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The broker the dev IdP signs in for: it redirects only to <c>{BrokerBaseUrl}t/{tenant}/callback</c>,
    /// the callback every dev connection registers. Null: the origin the request came to, which is the
    /// broker's own when the dev IdP is served by the silo.
    /// </summary>
    public Uri? BrokerBaseUrl { get; init; }

    /// <summary>Refresh-token lifetime; each rotation starts a new one. Default 8 h.</summary>
    public TimeSpan RefreshTokenLifetime { get; init; } = TimeSpan.FromHours(8);
}
