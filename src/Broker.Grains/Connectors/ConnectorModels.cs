using System.Text.Json.Nodes;

namespace Broker.Grains.Connectors;

/// <summary>What the pending login hands a connector to build the authorize URL.</summary>
/// <param name="RedirectUri">The broker's callback URL, registered at the provider.</param>
/// <param name="State">The CSRF-binding value (RFC 6749 §10.12); also the pending login's key.</param>
/// <param name="Nonce">Binds the id_token to this login (OIDC Core §3.1.2.1); ignored by plain OAuth 2.0.</param>
/// <param name="CodeChallenge">BASE64URL(SHA256(verifier)) from <see cref="Pkce"/>; sent when the connection uses PKCE.</param>
/// <param name="Hints">What the app asked of this login; connectors pass on what their provider takes.</param>
public sealed record AuthorizeInput(string RedirectUri, string State, string Nonce, string? CodeChallenge, LoginHints? Hints = null);

/// <summary>
/// What an app may ask of one login (docs/design.md §3): OpenID Connect's <c>login_hint</c>, <c>prompt</c>,
/// <c>ui_locales</c> and <c>max_age</c> (OIDC Core §3.1.2.1), and scopes beyond the connection's, from those
/// it allows (<see cref="ConnectionConfig.AllowedExtraScopes"/>: incremental consent).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LoginHints(string? LoginHint = null, string? Prompt = null, string? UiLocales = null, int? MaxAge = null, IReadOnlyList<string>? ExtraScopes = null);

/// <summary>The authorize URL, plus connector-private bytes to store with the pending login.</summary>
public sealed record AuthorizeRedirect(Uri Url, byte[]? ConnectorData = null);

/// <summary>The query of the callback request, as the provider sent it (RFC 6749 §4.1.2).</summary>
[GenerateSerializer, Immutable]
public sealed record CallbackInput(string? Code, string? Error = null, string? ErrorDescription = null)
{
    /// <summary>
    /// The code, or the exception the callback's <c>error</c> stands for: <c>access_denied</c> is
    /// the user's choice (RFC 6749 §4.1.2.1); anything else, or no code at all, is an invalid callback.
    /// </summary>
    public string RequireCode()
    {
        if (Error is not null)
        {
            throw OAuth2.OAuth2Responses.ErrorToException(Error, ErrorDescription, "authorization endpoint") switch
            {
                { Kind: ConnectorErrorKind.AccessDenied } denied => denied,
                var other => new ConnectorException(ConnectorErrorKind.InvalidCallback, other.Message, other.UpstreamError, other.UpstreamErrorDescription),
            };
        }

        return string.IsNullOrEmpty(Code)
            ? throw new ConnectorException(ConnectorErrorKind.InvalidCallback, "The callback has neither a code nor an error.")
            : Code;
    }
}

/// <summary>What the pending login saved at begin and hands back at the callback.</summary>
/// <param name="RedirectUri">The redirect URI sent at authorize; must be sent again (RFC 6749 §4.1.3).</param>
/// <param name="CodeVerifier">The PKCE verifier (RFC 7636 §4.5), or null when PKCE was not used.</param>
/// <param name="Nonce">The nonce sent at authorize.</param>
/// <param name="ConnectorData">The bytes returned in <see cref="AuthorizeRedirect.ConnectorData"/>.</param>
public sealed record PendingLoginData(string RedirectUri, string? CodeVerifier, string Nonce, byte[]? ConnectorData = null);

/// <summary>The outcome of a completed login.</summary>
public sealed record LoginResult(UpstreamTokens Tokens, UpstreamProfile Profile);

/// <summary>The upstream tokens a session owns. Never logged, never returned by the REST API except the access token.</summary>
/// <param name="AccessToken">The access token (RFC 6749 §5.1).</param>
/// <param name="TokenType">Usually <c>Bearer</c>.</param>
/// <param name="RefreshToken">The refresh token, when the provider issued one.</param>
/// <param name="IdToken">The OIDC id_token (kept as the logout <c>id_token_hint</c>).</param>
/// <param name="ExpiresAt">When the access token expires, from <c>expires_in</c>; null when the provider did not say.</param>
/// <param name="Scope">The granted scope, space-separated, when the provider said.</param>
[GenerateSerializer, Immutable]
public sealed record UpstreamTokens(
    string AccessToken,
    string TokenType,
    string? RefreshToken,
    string? IdToken,
    DateTimeOffset? ExpiresAt,
    string? Scope);

/// <summary>The user as the provider describes them, normalised to the fields docs/design.md §6 names.</summary>
/// <param name="Subject">The provider's stable user id (OIDC <c>sub</c>); never empty.</param>
/// <param name="Name">Display name, when known.</param>
/// <param name="Email">E-mail address, when known.</param>
/// <param name="AvatarUrl">Picture URL, when known.</param>
/// <param name="Raw">The provider's own fields (id_token claims merged with userinfo, or the profile JSON).</param>
public sealed record UpstreamProfile(string Subject, string? Name, string? Email, string? AvatarUrl, JsonObject Raw);

/// <summary>What the broker wants to do at the provider's logout page.</summary>
/// <param name="IdTokenHint">The session's id_token, RECOMMENDED by RP-Initiated Logout §2.</param>
/// <param name="PostLogoutRedirectUri">Where the provider should send the browser afterwards.</param>
/// <param name="State">Echoed back by the provider (RP-Initiated Logout §3).</param>
public sealed record LogoutInput(string? IdTokenHint, string? PostLogoutRedirectUri, string? State = null);

/// <summary>An introspection answer (RFC 7662 §2.2); <see cref="Raw"/> holds every member.</summary>
public sealed record TokenIntrospection(bool Active, string? Subject, string? Scope, DateTimeOffset? ExpiresAt, JsonObject Raw);
