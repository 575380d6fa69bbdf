namespace Broker.Grains.Tenants;

/// <summary>
/// What one tenant may hold (docs/design.md §5). A tenant's state is one grain's state, read and written
/// whole: without a cap, one tenant could make every write of it (and the silo's memory) as large
/// as it liked. Past a limit the API answers 409 <c>limit_reached</c>.
/// </summary>
public static class TenantLimits
{
    public const int Connections = 50;
    public const int ReturnUrls = 50;
    public const int ApiKeys = 10;
    public const int AppClients = 100;

    /// <summary>Per app client, for its redirect URIs and, apart, its post-logout redirect URIs.</summary>
    public const int RedirectUris = 20;
}
