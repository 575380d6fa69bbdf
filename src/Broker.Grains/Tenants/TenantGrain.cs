using Broker.Grains.Connectors;
using Broker.Grains.Events;
using Broker.Grains.Security;
using Microsoft.Extensions.Logging;

namespace Broker.Grains.Tenants;

[GrainType("tenant")]
public sealed partial class TenantGrain(
    [PersistentState("tenant", BrokerStorage.Name)] IPersistentState<TenantState> state,
    SecretProtector secrets,
    ConnectorFactory connectors,
    ITenantDirectory directory,
    ITenantEventLog events,
    TimeProvider time,
    ILogger<TenantGrain> logger) : Grain, ITenantGrain
{
    // Connections with their secret decrypted, kept in memory only: every login and refresh asks for
    // one, and decrypting the secret each time was a measurable share of a login. Emptied on every
    // change of the state.
    private readonly Dictionary<string, ConnectionConfig> _decrypted = new(StringComparer.Ordinal);

    private TenantState State => state.State;

    private string Id => GrainKeys.IdOf(this);

    private bool IsActive => State.Status == TenantStatus.Active;

    public async Task<CreateTenantResult> CreateAsync(string displayName, IReadOnlyList<string> returnUrls)
    {
        if (IsActive)
            return new CreateTenantResult(false, null);
        // A deleted tenant's id may be taken again; nothing of the old tenant carries over.
        state.State = new TenantState
        {
            Status = TenantStatus.Active,
            Incarnation = RandomIds.New()[..16],
            DisplayName = displayName,
            ReturnUrls = [.. returnUrls],
            CreatedAt = time.GetUtcNow(),
        };
        var apiKey = NewApiKey();
        await directory.AddAsync(Id);
        await WriteAsync();
        return new CreateTenantResult(true, apiKey);
    }

    public Task<TenantStatus> GetStatusAsync() => Task.FromResult(State.Status);

    public Task<TenantAccess> GetAccessAsync(string? apiKey) =>
        Task.FromResult(new TenantAccess(State.Status, apiKey is not null && IsKeyValid(apiKey), IsActive ? Ref : null));

    public Task<TenantView?> GetAsync() => Task.FromResult(IsActive ? View() : null);

    public async Task<bool> DeleteAsync()
    {
        if (!IsActive)
            return false;
        // The connections go first to the grain that ends this life's sessions and revokes their
        // tokens upstream, which needs the client credentials; it waits until the tombstone is written.
        await GrainFactory.RetiredTenant(Ref).RetireAsync(Ref, State.Connections);
        // A tombstone: the id stays known, so the old keys answer 401 rather than 404 (docs/design.md §6).
        state.State = new TenantState { Status = TenantStatus.Deleted, CreatedAt = State.CreatedAt };
        await WriteAsync();
        await directory.RemoveAsync(Id);
        return true;
    }

    public async Task<NewApiKeyResult?> AddApiKeyAsync()
    {
        if (!IsActive)
            return null;
        if (State.ApiKeys.Count >= TenantLimits.ApiKeys)
            return new NewApiKeyResult(null);
        var apiKey = NewApiKey();
        await WriteAsync();
        await events.TryAppendAsync(logger, Ref, EventTypes.ApiKeyCreated, detail: new() { ["keyId"] = State.ApiKeys[^1].Id });
        return new NewApiKeyResult(apiKey);
    }

    public Task<IReadOnlyList<ApiKeyView>?> ListApiKeysAsync() =>
        Task.FromResult<IReadOnlyList<ApiKeyView>?>(IsActive ? State.ApiKeys.Select(k => new ApiKeyView(k.Id, k.CreatedAt)).ToList() : null);

    public async Task<bool> DeleteApiKeyAsync(string keyId)
    {
        if (!IsActive || State.ApiKeys.RemoveAll(k => k.Id == keyId) == 0)
            return false;
        await WriteAsync();
        await events.TryAppendAsync(logger, Ref, EventTypes.ApiKeyDeleted, detail: new() { ["keyId"] = keyId });
        return true;
    }

    public Task<bool> CheckApiKeyAsync(string apiKey) => Task.FromResult(IsKeyValid(apiKey));

    public async Task<TenantView?> UpdateAsync(TenantPatch patch)
    {
        if (!IsActive)
            return null;
        State.DisplayName = patch.DisplayName ?? State.DisplayName;
        State.ReturnUrls = patch.ReturnUrls is { } urls ? [.. urls] : State.ReturnUrls;
        State.RefreshLeadSeconds = patch.RefreshLeadSeconds ?? State.RefreshLeadSeconds;
        State.LifetimeSeconds = patch.LifetimeSeconds ?? State.LifetimeSeconds;
        await WriteAsync();
        return View();
    }

    public async Task<PutOutcome?> PutConnectionAsync(ConnectionConfig connection)
    {
        if (!IsActive)
            return null;
        var created = !State.Connections.ContainsKey(connection.Id);
        if (created && State.Connections.Count >= TenantLimits.Connections)
            return PutOutcome.LimitReached;
        State.Connections[connection.Id] = new StoredConnection
        {
            Config = connection with { ClientSecret = null },
            ProtectedClientSecret = secrets.Protect(connection.ClientSecret),
        };
        await WriteAsync();
        await events.TryAppendAsync(logger, Ref, EventTypes.ConnectionChanged, connection.Id,
            detail: new() { ["created"] = created, ["type"] = connection.Type });
        return created ? PutOutcome.Created : PutOutcome.Replaced;
    }

    public Task<ConnectionConfig?> GetConnectionAsync(string connectionId) =>
        Task.FromResult(IsActive && State.Connections.TryGetValue(connectionId, out var stored) ? Decrypt(stored) : null);

    public async Task<ConnectionWithPolicy?> GetConnectionWithPolicyAsync(string incarnation, string connectionId) =>
        State.Incarnation == incarnation && await GetConnectionAsync(connectionId) is { } connection
            ? new ConnectionWithPolicy(connection, View().SessionPolicy)
            : null;

    public Task<IReadOnlyList<ConnectionConfig>> ListConnectionsAsync() =>
        Task.FromResult<IReadOnlyList<ConnectionConfig>>(IsActive
            ? State.Connections.Values.Select(Decrypt).OrderBy(c => c.Id, StringComparer.Ordinal).ToList()
            : []);

    public async Task<bool> DeleteConnectionAsync(string connectionId)
    {
        if (!IsActive || !State.Connections.Remove(connectionId))
            return false;
        await WriteAsync();
        await events.TryAppendAsync(logger, Ref, EventTypes.ConnectionDeleted, connectionId);
        return true;
    }

    public async Task<Uri?> BuildLogoutUrlAsync(string connectionId, string postLogoutRedirectUri)
    {
        if (await GetConnectionAsync(connectionId) is not { } connection || connectors.Create(connection) is not ILogoutConnector logout)
            return null;
        try
        {
            return await logout.BuildLogoutUrlAsync(new LogoutInput(null, postLogoutRedirectUri), CancellationToken.None);
        }
        catch (ConnectorException)
        {
            return null; // e.g. discovery unreachable: the app's return URL still ends the local sign-out
        }
    }

    private bool IsKeyValid(string apiKey) => IsActive && ApiKeys.Matches(apiKey, State.ApiKeys.Select(k => k.Hash));

    /// <summary>Adds a key to the state (the caller writes it) and returns the key, which is never stored.</summary>
    private string NewApiKey()
    {
        var (id, key) = ApiKeys.New(Id);
        State.ApiKeys.Add(new StoredApiKey { Id = id, Hash = ApiKeys.Hash(key), CreatedAt = time.GetUtcNow() });
        return key;
    }

    private Task WriteAsync()
    {
        _decrypted.Clear();
        return state.WriteStateAsync();
    }

    private ConnectionConfig Decrypt(StoredConnection stored)
    {
        if (!_decrypted.TryGetValue(stored.Config.Id, out var connection))
            _decrypted[stored.Config.Id] = connection = stored.Config with { ClientSecret = secrets.Unprotect(stored.ProtectedClientSecret) };
        return connection;
    }

    private TenantRef Ref => new(Id, State.Incarnation);

    private TenantView View() => new(
        Ref,
        State.DisplayName,
        State.ReturnUrls,
        new SessionPolicy(State.RefreshLeadSeconds, State.LifetimeSeconds),
        State.CreatedAt);
}
