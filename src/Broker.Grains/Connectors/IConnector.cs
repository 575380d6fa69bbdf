namespace Broker.Grains.Connectors;

/// <summary>
/// One upstream provider's authorization-code flow for one connection. A connector holds no
/// per-login state: whatever must survive between <see cref="BuildAuthorizeRequestAsync"/> and
/// <see cref="CompleteAsync"/> is returned as opaque bytes the caller stores with the pending
/// login and hands back. What else a provider can do is told by the capability interfaces
/// below, which callers test for with a type check (<c>if (connector is IRefreshConnector r)</c>).
/// </summary>
/// <remarks>
/// Failures are thrown as <see cref="ConnectorException"/>, whose <see cref="ConnectorException.Kind"/>
/// tells the caller what to do; nothing else escapes except caller cancellation.
/// </remarks>
public interface IConnector
{
    /// <summary>Builds the URL the browser is sent to (RFC 6749 §4.1.1).</summary>
    ValueTask<AuthorizeRedirect> BuildAuthorizeRequestAsync(AuthorizeInput input, CancellationToken cancellationToken);

    /// <summary>
    /// Handles the callback: exchanges the code (RFC 6749 §4.1.3), validates what must be
    /// validated (the OIDC id_token) and reads the user's profile.
    /// </summary>
    Task<LoginResult> CompleteAsync(CallbackInput callback, PendingLoginData login, CancellationToken cancellationToken);
}

/// <summary>A connector whose provider can refresh access tokens (RFC 6749 §6).</summary>
public interface IRefreshConnector : IConnector
{
    /// <summary>
    /// Trades the refresh token for new tokens. When the provider does not rotate refresh
    /// tokens, the result keeps the old one. A refused refresh token throws
    /// <see cref="ConnectorErrorKind.InvalidGrant"/>: the session must end.
    /// </summary>
    Task<UpstreamTokens> RefreshAsync(UpstreamTokens tokens, CancellationToken cancellationToken);
}

/// <summary>A connector whose provider can revoke tokens (RFC 7009).</summary>
public interface IRevokeConnector : IConnector
{
    /// <summary>
    /// Revokes the refresh token (which, per RFC 7009 §2.1, should end the whole grant) and the
    /// access token. Returns false when this connection has no revocation endpoint.
    /// </summary>
    Task<bool> RevokeAsync(UpstreamTokens tokens, CancellationToken cancellationToken);
}

/// <summary>A connector whose provider has a logout page the browser can be sent to.</summary>
public interface ILogoutConnector : IConnector
{
    /// <summary>
    /// The provider's logout URL (OIDC RP-Initiated Logout §2), or null when this connection
    /// has none and the caller should redirect to the post-logout URL itself.
    /// </summary>
    ValueTask<Uri?> BuildLogoutUrlAsync(LogoutInput input, CancellationToken cancellationToken);
}

/// <summary>A connector whose provider can tell whether a token is still active (RFC 7662).</summary>
public interface IIntrospectConnector : IConnector
{
    /// <summary>Introspects a token; returns null when this connection has no introspection endpoint.</summary>
    Task<TokenIntrospection?> IntrospectAsync(string token, string? tokenTypeHint, CancellationToken cancellationToken);
}
