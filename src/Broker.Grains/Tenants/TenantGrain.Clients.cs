using Broker.Grains.Clients;
using Broker.Grains.Security;

namespace Broker.Grains.Tenants;

/// <summary>The tenant's app clients of its OpenID Provider (docs/design.md §6 "OpenID Provider").</summary>
public sealed partial class TenantGrain
{
    public async Task<PutAppClientResult?> PutClientAsync(AppClient client)
    {
        if (!IsActive)
            return null;
        var known = State.Clients.GetValueOrDefault(client.Id);
        if (known is null && State.Clients.Count >= TenantLimits.AppClients)
            return new PutAppClientResult(PutOutcome.LimitReached, null, null);
        // A replacement keeps the secret; a client that becomes public loses it, one that stops being public gets one.
        var secret = !client.IsPublic && known?.SecretHash is null ? AppClientSecrets.New() : null;
        var stored = State.Clients[client.Id] = new StoredAppClient
        {
            Client = client,
            SecretHash = client.IsPublic ? null : secret is null ? known!.SecretHash : SecretHash.Of(secret),
            CreatedAt = known?.CreatedAt ?? time.GetUtcNow(),
        };
        await WriteAsync();
        return new PutAppClientResult(known is null ? PutOutcome.Created : PutOutcome.Replaced, ClientView(stored), secret);
    }

    public Task<AppClientView?> GetClientAsync(string clientId) =>
        Task.FromResult(IsActive && State.Clients.TryGetValue(clientId, out var stored) ? ClientView(stored) : null);

    public Task<IReadOnlyList<AppClientView>?> ListClientsAsync() =>
        Task.FromResult<IReadOnlyList<AppClientView>?>(IsActive
            ? State.Clients.Values.OrderBy(c => c.Client.Id, StringComparer.Ordinal).Select(ClientView).ToList()
            : null);

    public async Task<bool> DeleteClientAsync(string clientId)
    {
        if (!IsActive || !State.Clients.Remove(clientId))
            return false;
        await WriteAsync();
        return true;
    }

    public async Task<RotateSecretResult> RotateClientSecretAsync(string clientId)
    {
        if (!IsActive || !State.Clients.TryGetValue(clientId, out var stored))
            return new RotateSecretResult(RotateSecretOutcome.NotFound);
        if (stored.Client.IsPublic)
            return new RotateSecretResult(RotateSecretOutcome.PublicClient);
        var secret = AppClientSecrets.New();
        stored.SecretHash = SecretHash.Of(secret);
        await WriteAsync();
        return new RotateSecretResult(RotateSecretOutcome.Rotated, secret);
    }

    public Task<bool> CheckClientSecretAsync(string clientId, string secret) =>
        Task.FromResult(IsActive && State.Clients.TryGetValue(clientId, out var stored) && SecretHash.Matches(secret, stored.SecretHash));

    private static AppClientView ClientView(StoredAppClient stored) => new(stored.Client, stored.SecretHash is not null, stored.CreatedAt);
}
