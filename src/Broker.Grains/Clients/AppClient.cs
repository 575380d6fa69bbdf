using Broker.Grains.Security;

namespace Broker.Grains.Clients;

/// <summary>
/// An app registered with the tenant's OpenID Provider (docs/design.md §6 "OpenID Provider"): its id is the
/// OAuth <c>client_id</c>. Never holds the secret; the tenant stores only the secret's hash.
/// </summary>
/// <param name="Connections">The connections its users may sign in with; empty means all of the tenant's.</param>
/// <param name="OfflineAccess">Whether it may get refresh tokens.</param>
[GenerateSerializer, Immutable]
public sealed record AppClient(
    [property: Id(0)] string Id,
    [property: Id(1)] string? DisplayName,
    [property: Id(2)] IReadOnlyList<string> RedirectUris,
    [property: Id(3)] IReadOnlyList<string> PostLogoutRedirectUris,
    [property: Id(4)] string TokenEndpointAuthMethod,
    [property: Id(5)] IReadOnlyList<string> Connections,
    [property: Id(6)] bool OfflineAccess)
{
    public bool IsPublic => TokenEndpointAuthMethod == AppClientAuthMethods.None;
}

public static class AppClientAuthMethods
{
    public const string Basic = "client_secret_basic";
    public const string Post = "client_secret_post";
    public const string None = "none";

    public static readonly IReadOnlyList<string> All = [Basic, Post, None];
}

/// <summary>App client secrets: 256 random bits, shown once; the tenant keeps only their <see cref="SecretHash"/>.</summary>
public static class AppClientSecrets
{
    public static string New() => RandomIds.New();
}
