namespace Broker.Grains.Connectors.Api;

/// <summary>
/// How provider types turn a connection's <c>baseUrl</c> / <c>endpoints</c> overrides into URLs
/// (docs/design.md §3: every endpoint defaults to the provider's real one).
/// </summary>
public static class ProviderUrls
{
    /// <summary>
    /// <paramref name="explicitEndpoint"/> when the connection names one, else <paramref name="path"/>
    /// joined to the connection's <c>baseUrl</c> or the provider's <paramref name="defaultBase"/>.
    /// </summary>
    public static string Resolve(string? explicitEndpoint, string? baseUrl, string defaultBase, string path) =>
        explicitEndpoint ?? Join(baseUrl ?? defaultBase, path);

    /// <summary>Joins a root and a path with exactly one slash between them; the root may itself have a path.</summary>
    public static string Join(string root, string path) => $"{root.TrimEnd('/')}/{path.TrimStart('/')}";

    /// <summary>A root URL with a trailing slash, so that relative API paths land below it.</summary>
    public static Uri AsBase(string root) => new(root.EndsWith('/') ? root : root + "/", UriKind.Absolute);
}
