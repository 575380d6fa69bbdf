using Broker.Grains.Clients;
using Broker.Grains.Tenants;

namespace Broker.Api;

/// <summary>
/// The body of <c>PUT .../clients/{client}</c> (docs/design.md §6 "OpenID Provider"). Left-out members take
/// their defaults: client_secret_basic, no post-logout URIs, every connection, no offline access.
/// </summary>
public sealed record AppClientBody(
    string? Id, string? DisplayName, IReadOnlyList<string>? RedirectUris, IReadOnlyList<string>? PostLogoutRedirectUris,
    string? TokenEndpointAuthMethod, IReadOnlyList<string>? Connections, bool? OfflineAccess)
{
    private const int DisplayNameMaxLength = 100;
    private const int UriMaxLength = 2000;

    public AppClient ToClient(string id) => new(
        id, DisplayName?.Trim(), RedirectUris ?? [], PostLogoutRedirectUris ?? [],
        TokenEndpointAuthMethod ?? AppClientAuthMethods.Basic, Connections ?? [], OfflineAccess ?? false);

    public Dictionary<string, string[]> Errors(string pathId)
    {
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string message) => errors[field] = [message];
        if (Id is not null && Id != pathId)
            Add("id", "must equal the client id in the path, or be left out.");
        if (DisplayName is not null && DisplayName.Trim().Length is 0 or > DisplayNameMaxLength)
            Add("displayName", $"must be 1-{DisplayNameMaxLength} characters, or be left out.");
        if (RedirectUris is not { Count: > 0 })
            Add("redirectUris", "is required: at least one URI the app receives its codes at.");
        CheckUris("redirectUris", RedirectUris ?? [], Add);
        CheckUris("postLogoutRedirectUris", PostLogoutRedirectUris ?? [], Add);
        if (TokenEndpointAuthMethod is not null && !AppClientAuthMethods.All.Contains(TokenEndpointAuthMethod))
            Add("tokenEndpointAuthMethod", $"must be one of: {string.Join(", ", AppClientAuthMethods.All)}.");
        var connections = Connections ?? [];
        for (var i = 0; i < connections.Count; i++)
        {
            if (!ResourceIds.IsWellFormed(connections[i]))
                Add($"connections[{i}]", "must match ^[a-z0-9][a-z0-9-]{1,62}$.");
        }
        if (connections.Count > TenantLimits.Connections)
            Add("connections", $"may name at most {TenantLimits.Connections} connections.");
        else if (connections.Distinct(StringComparer.Ordinal).Count() != connections.Count)
            Add("connections", "names a connection more than once.");
        return errors;
    }

    /// <summary>Absolute, no fragment, no user info; https, or http only on a loopback host (a native or local app).</summary>
    private static void CheckUris(string field, IReadOnlyList<string> uris, Action<string, string> add)
    {
        if (uris.Count > TenantLimits.RedirectUris)
        {
            add(field, $"may hold at most {TenantLimits.RedirectUris} URIs.");
            return;
        }
        if (uris.Distinct(StringComparer.Ordinal).Count() != uris.Count)
            add(field, "holds a URI more than once.");
        for (var i = 0; i < uris.Count; i++)
        {
            if (uris[i].Length > UriMaxLength || !Uri.TryCreate(uris[i], UriKind.Absolute, out var uri)
                || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0 || uris[i].Contains('#')
                || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
                add($"{field}[{i}]", "must be an absolute https URI (http only on localhost or a loopback address) without a fragment or user info.");
        }
    }
}
