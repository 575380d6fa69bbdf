using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;

namespace Broker.Api;

// Request bodies. Members are nullable so that a missing one is reported by validation, with the
// other problems of the same body, instead of one serializer error at a time.

public sealed record CreateTenantBody(string? Id, string? DisplayName, IReadOnlyList<string>? ReturnUrls);

/// <summary>PATCH: members left out are kept (docs/design.md §6); explicit nulls are refused.</summary>
public sealed record PatchTenantBody(string? DisplayName, IReadOnlyList<string>? ReturnUrls, SessionPolicyBody? SessionPolicy);

public sealed record SessionPolicyBody(int? RefreshLeadSeconds, int? LifetimeSeconds);

public sealed record ExchangeBody(string? Code);

/// <summary>PUT of a connection (docs/design.md §3). <c>id</c> may be sent but must equal the path's.</summary>
public sealed record ConnectionBody(
    string? Id,
    string? Type,
    string? ClientId,
    string? ClientSecret,
    IReadOnlyList<string>? Scopes,
    string? Issuer,
    string? BaseUrl,
    EndpointsBody? Endpoints,
    string? TokenEndpointAuthMethod,
    bool? UsePkce,
    IReadOnlyDictionary<string, string>? ExtraAuthorizeParams,
    IReadOnlyDictionary<string, JsonElement>? Options,
    string? ApiBaseUrl,
    string? DisplayName = null,
    IReadOnlyList<string>? AllowedExtraScopes = null)
{
    /// <summary>The most a display name may hold: it is one button's label.</summary>
    public const int DisplayNameMaxLength = 100;

    public ConnectionConfig ToConfig(string id) => new()
    {
        Id = id,
        DisplayName = DisplayName?.Trim(),
        AllowedExtraScopes = AllowedExtraScopes ?? [],
        Type = Type ?? "",
        ClientId = ClientId,
        ClientSecret = ClientSecret,
        Scopes = Scopes ?? [],
        Issuer = Issuer,
        BaseUrl = BaseUrl,
        Endpoints = Endpoints is { } e
            ? new Grains.Connectors.ConnectionEndpoints { Authorize = e.Authorize, Token = e.Token, Userinfo = e.Userinfo, Revocation = e.Revocation, Introspection = e.Introspection, Logout = e.Logout, Jwks = e.Jwks }
            : new Grains.Connectors.ConnectionEndpoints(),
        TokenEndpointAuthMethod = TokenEndpointAuthMethod ?? TokenEndpointAuthMethods.DefaultFor(Type),
        UsePkce = UsePkce ?? true,
        ExtraAuthorizeParams = ExtraAuthorizeParams ?? new Dictionary<string, string>(),
        Options = (Options ?? new Dictionary<string, JsonElement>()).ToDictionary(o => o.Key, o => OptionText(o.Value) ?? ""),
        ApiBaseUrl = ApiBaseUrl,
    };

    /// <summary>Problems the connector validator cannot see: option values that are not scalars, an id that contradicts the path.</summary>
    public IEnumerable<ConfigError> ShapeErrors(string pathId)
    {
        if (Id is not null && Id != pathId)
            yield return new("id", "must equal the connection id in the path, or be left out.");
        // Every Authing app has a host of its own; the SDKs' shared fallback serves none of them. Checked for a
        // new PUT only: a connection stored before the rule keeps working on the fallback.
        if (Type == ConnectionTypes.Authing && string.IsNullOrWhiteSpace(BaseUrl))
            yield return new("baseUrl", "is required for an authing connection: the app's host, e.g. https://{app}.authing.cn.");
        if (DisplayName is not null && (DisplayName.Trim().Length is 0 or > DisplayNameMaxLength || DisplayName.Any(char.IsControl)))
            yield return new("displayName", $"must be 1-{DisplayNameMaxLength} characters without control characters, or be left out.");
        foreach (var (name, value) in ExtraAuthorizeParams ?? new Dictionary<string, string>())
        {
            if (value is null)
                yield return new($"extraAuthorizeParams.{name}", "must be a string.");
        }
        foreach (var (name, value) in Options ?? new Dictionary<string, JsonElement>())
        {
            if (OptionText(value) is null)
                yield return new($"options.{name}", "must be a string, number or boolean.");
        }
    }

    // Provider options are strings inside the broker; QQ's unionId may be sent as a JSON boolean.
    private static string? OptionText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.GetRawText(),
        _ => null,
    };
}

public sealed record EndpointsBody(string? Authorize, string? Token, string? Userinfo, string? Revocation, string? Introspection, string? Logout, string? Jwks);

// Responses (docs/design.md §6). Never a secret; a token only in TokenResponse.

public sealed record CreatedTenantResponse(string Id, string ApiKey);

public sealed record ApiKeyResponse(string ApiKey);

/// <summary>A key in the list of a tenant's keys: its id, never the key.</summary>
public sealed record ApiKeyItem(string Id, DateTimeOffset CreatedAt);

public sealed record ItemsResponse<T>(IReadOnlyList<T> Items);

/// <summary>One page of a paged list; <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record PageResponse<T>(IReadOnlyList<T> Items, string? NextCursor);

public sealed record SessionPolicyResponse(int RefreshLeadSeconds, int LifetimeSeconds);

public sealed record TenantResponse(string Id, string DisplayName, IReadOnlyList<string> ReturnUrls, SessionPolicyResponse SessionPolicy, DateTimeOffset CreatedAt)
{
    public static TenantResponse From(TenantView t) =>
        new(t.Id, t.DisplayName, t.ReturnUrls, new(t.SessionPolicy.RefreshLeadSeconds, t.SessionPolicy.LifetimeSeconds), t.CreatedAt);
}

/// <summary>A connection as the API shows it: everything but the secret, and whether one is set.</summary>
public sealed record ConnectionResponse(
    string Id,
    string Type,
    string? ClientId,
    bool HasClientSecret,
    IReadOnlyList<string> Scopes,
    string? Issuer,
    string? BaseUrl,
    EndpointsBody Endpoints,
    string TokenEndpointAuthMethod,
    bool UsePkce,
    IReadOnlyDictionary<string, string> ExtraAuthorizeParams,
    IReadOnlyDictionary<string, string> Options,
    string? ApiBaseUrl,
    string? DisplayName,
    IReadOnlyList<string> AllowedExtraScopes)
{
    public static ConnectionResponse From(ConnectionConfig c) => new(
        c.Id, c.Type, c.ClientId, !string.IsNullOrEmpty(c.ClientSecret), c.Scopes, c.Issuer, c.BaseUrl,
        new EndpointsBody(c.Endpoints.Authorize, c.Endpoints.Token, c.Endpoints.Userinfo, c.Endpoints.Revocation, c.Endpoints.Introspection, c.Endpoints.Logout, c.Endpoints.Jwks),
        c.TokenEndpointAuthMethod, c.UsePkce, c.ExtraAuthorizeParams, c.Options, c.ApiBaseUrl, c.DisplayName, c.AllowedExtraScopes);
}

public sealed record UserResponse(string Id, string Subject, string Connection, string? Name, string? Email, string? AvatarUrl, JsonObject Raw)
{
    public static UserResponse From(UserView u) => new(u.Id, u.Subject, u.Connection, u.Name, u.Email, u.AvatarUrl, u.Raw);
}

public sealed record SessionResponse(
    string SessionId,
    string Status,
    string? EndReason,
    UserResponse User,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? AccessTokenExpiresAt,
    DateTimeOffset? RefreshedAt)
{
    public static SessionResponse From(SessionView s) =>
        new(s.SessionId, s.Status, s.EndReason, UserResponse.From(s.User), s.CreatedAt, s.ExpiresAt, s.AccessTokenExpiresAt, s.RefreshedAt);
}

/// <summary>POST .../introspect: whether the provider still takes the session's token, and the session after.</summary>
public sealed record IntrospectionResponse(bool Active, SessionResponse Session);

public sealed record ExchangeResponse(string SessionId, UserResponse User, DateTimeOffset ExpiresAt);

/// <summary>GET .../token; <c>scope</c> is space-separated (RFC 6749 §3.3).</summary>
public sealed record TokenResponse(string AccessToken, string TokenType, DateTimeOffset? ExpiresAt, string? Scope);

public sealed record PatchUserBody(bool? Blocked);

public sealed record IdentityRefResponse(string Connection, string Subject);

/// <summary>A user as the directory lists it (docs/design.md §6 "Users and identities").</summary>
public sealed record UserSummaryResponse(
    string Id, string? Name, string? Email, string? AvatarUrl, bool Blocked,
    DateTimeOffset CreatedAt, DateTimeOffset? LastLoginAt, IReadOnlyList<IdentityRefResponse> Identities)
{
    public static UserSummaryResponse From(UserSummary u) =>
        new(u.Id, u.Name, u.Email, u.AvatarUrl, u.Blocked, u.CreatedAt, u.LastLoginAt, u.Identities.Select(i => new IdentityRefResponse(i.Connection, i.Subject)).ToList());
}

public sealed record UserPageResponse(IReadOnlyList<UserSummaryResponse> Items, string? NextCursor);

/// <param name="Profile">The user shape from this identity's last login.</param>
public sealed record IdentityResponse(string Connection, string Subject, DateTimeOffset LinkedAt, DateTimeOffset LastLoginAt, UserResponse Profile);

/// <summary>One user: the summary, its identities in full, and how many of its sessions are active.</summary>
public sealed record UserDetailsResponse(
    string Id, string? Name, string? Email, string? AvatarUrl, bool Blocked,
    DateTimeOffset CreatedAt, DateTimeOffset? LastLoginAt, IReadOnlyList<IdentityResponse> Identities, int ActiveSessions)
{
    public static UserDetailsResponse From(UserDetails d) => new(
        d.Summary.Id, d.Summary.Name, d.Summary.Email, d.Summary.AvatarUrl, d.Summary.Blocked, d.Summary.CreatedAt, d.Summary.LastLoginAt,
        d.Identities.Select(i => new IdentityResponse(i.Connection, i.Subject, i.LinkedAt, i.LastLoginAt, UserResponse.From(i.Profile))).ToList(),
        d.ActiveSessions);
}

public sealed record LinkBody(string? Connection, string? ReturnTo, string? State);

/// <summary>A one-time browser URL that signs in at another connection and links that identity to the session's user.</summary>
public sealed record LinkResponse(string LoginUrl, DateTimeOffset ExpiresAt);

/// <summary>An app client as the API shows it; never its secret.</summary>
public sealed record AppClientResponse(
    string Id, string? DisplayName, IReadOnlyList<string> RedirectUris, IReadOnlyList<string> PostLogoutRedirectUris,
    string TokenEndpointAuthMethod, IReadOnlyList<string> Connections, bool OfflineAccess, bool HasClientSecret, DateTimeOffset CreatedAt)
{
    public static AppClientResponse From(AppClientView v) => new(
        v.Client.Id, v.Client.DisplayName, v.Client.RedirectUris, v.Client.PostLogoutRedirectUris,
        v.Client.TokenEndpointAuthMethod, v.Client.Connections, v.Client.OfflineAccess, v.HasClientSecret, v.CreatedAt);
}

/// <summary>The answer of a PUT that made a secret: the client and its secret, shown this once.</summary>
public sealed record AppClientWithSecretResponse(
    string Id, string? DisplayName, IReadOnlyList<string> RedirectUris, IReadOnlyList<string> PostLogoutRedirectUris,
    string TokenEndpointAuthMethod, IReadOnlyList<string> Connections, bool OfflineAccess, bool HasClientSecret, DateTimeOffset CreatedAt,
    string ClientSecret)
{
    public static AppClientWithSecretResponse From(AppClientView v, string secret) => new(
        v.Client.Id, v.Client.DisplayName, v.Client.RedirectUris, v.Client.PostLogoutRedirectUris,
        v.Client.TokenEndpointAuthMethod, v.Client.Connections, v.Client.OfflineAccess, v.HasClientSecret, v.CreatedAt, secret);
}

public sealed record ClientSecretResponse(string ClientSecret);
