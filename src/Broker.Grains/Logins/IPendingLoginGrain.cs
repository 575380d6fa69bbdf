using Broker.Grains.Connectors;
using Broker.Grains.Tenants;

namespace Broker.Grains.Logins;

/// <summary>
/// One login between the redirect to the provider and its callback. Keyed by the <c>state</c> sent
/// upstream (256 random bits), so the callback finds it and nothing else can. Completed at most once
/// across the whole cluster: the grain deletes its state (a conditional write) before it exchanges
/// the code. One whose user never comes back expires with its stored time, and the host's storage
/// housekeeping deletes its row.
/// </summary>
[Alias("login"), GrainInterfaceType("login")]
public interface IPendingLoginGrain : IGrainWithStringKey
{
    /// <summary>Stores the login and returns where to send the browser.</summary>
    Task<BeginLoginResult> BeginAsync(BeginLogin login);

    /// <summary>Consumes the login with the provider's callback. A callback that arrives on another
    /// tenant's URL (or after its tenant was deleted) is rejected without using the login up.</summary>
    Task<CompleteLoginResult> CompleteAsync(TenantRef tenant, CallbackInput callback);
}

/// <param name="RedirectUri">The broker's callback URL for the tenant, as registered upstream.</param>
/// <param name="LinkToUserId">Set for a link URL (docs/design.md §6 "Users and identities"): the identity that signs
/// in is linked to this user, and the session made is this user's.</param>
/// <param name="Oidc">Set for a login begun at the tenant's OpenID Provider (<c>/authorize</c>): it ends with an
/// authorization code for that app, sent to <see cref="ReturnTo"/>, its redirect URI.</param>
[GenerateSerializer, Immutable]
public sealed record BeginLogin(TenantRef Tenant, string ConnectionId, string ReturnTo, string? AppState, string RedirectUri, LoginHints? Hints = null,
    string? LinkToUserId = null, Provider.OidcAuthorization? Oidc = null);

[GenerateSerializer, Immutable]
public abstract record BeginLoginResult
{
    [GenerateSerializer, Immutable]
    public sealed record Redirect(Uri AuthorizeUrl, DateTimeOffset ExpiresAt) : BeginLoginResult;

    /// <summary>The connection is gone or misconfigured, or the provider could not be reached (e.g. discovery failed).</summary>
    [GenerateSerializer, Immutable]
    public sealed record Failed(string Code, string Detail) : BeginLoginResult;

    /// <summary>The login asks for something the connection does not allow (a scope beyond its allowed extra ones).</summary>
    [GenerateSerializer, Immutable]
    public sealed record Refused(string Detail) : BeginLoginResult;
}

[GenerateSerializer, Immutable]
public abstract record CompleteLoginResult
{
    /// <summary>Back to the app with a one-time hand-off code, or for an OpenID Provider login (<see cref="ClientId"/>
    /// set) an authorization code.</summary>
    [GenerateSerializer, Immutable]
    public sealed record Success(string ReturnTo, string HandoffCode, string? AppState, string? ClientId = null) : CompleteLoginResult;

    /// <summary>Back to the app with an RFC 6749 error code (§4.1.2.1), e.g. access_denied or server_error, and
    /// a description a person can read (never a secret, token or code).</summary>
    [GenerateSerializer, Immutable]
    public sealed record AppError(string ReturnTo, string Error, string? AppState, string? Description = null, string? ClientId = null) : CompleteLoginResult;

    /// <summary>Unknown, replayed or expired state: an error page, never a redirect (docs/design.md §6).</summary>
    [GenerateSerializer, Immutable]
    public sealed record Rejected(string Reason) : CompleteLoginResult;
}
