using Broker.Grains.Tenants;

namespace Broker.Grains.Users;

/// <summary>The user directory of a single process (Memory storage and tests).</summary>
public sealed class MemoryUserDirectory : IUserDirectory
{
    private readonly Dictionary<string, (long Position, TenantRef Tenant, UserSummary User)> _users = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long _lastPosition;

    public Task UpsertAsync(TenantRef tenant, UserSummary user)
    {
        lock (_lock)
            _users[user.Id] = (_users.TryGetValue(user.Id, out var known) ? known.Position : ++_lastPosition, tenant, user);
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string userId)
    {
        lock (_lock)
            _users.Remove(userId);
        return Task.CompletedTask;
    }

    public Task<UserPage> ListAsync(TenantRef tenant, UserQuery query)
    {
        lock (_lock)
        {
            var page = _users.Values
                .Where(e => e.Tenant == tenant && e.Position > (query.After ?? 0) && Matches(e.User, query))
                .OrderBy(e => e.Position)
                .Take(query.Limit)
                .ToList();
            return Task.FromResult(new UserPage(page.Select(e => e.User).ToList(), page.Count == query.Limit ? page[^1].Position : null));
        }
    }

    private static bool Matches(UserSummary user, UserQuery query) =>
        (query.Connection is null || user.Identities.Any(i => i.Connection == query.Connection))
        && (query.Text is not { } text
            || user.Name?.StartsWith(text, StringComparison.OrdinalIgnoreCase) == true
            || user.Email?.StartsWith(text, StringComparison.OrdinalIgnoreCase) == true
            || user.Identities.Any(i => i.Subject == text));
}
