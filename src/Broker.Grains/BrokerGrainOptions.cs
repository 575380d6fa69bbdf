namespace Broker.Grains;

/// <summary>Settings the grains need from the silo's configuration.</summary>
public sealed record BrokerGrainOptions
{
    /// <summary>Where browsers reach the broker; callback URLs are <c>{PublicBaseUrl}/t/{tenant}/callback</c>.</summary>
    public required Uri PublicBaseUrl { get; init; }

    /// <summary>How long a pending login waits for its callback.</summary>
    public TimeSpan LoginLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a hand-off code can be redeemed.</summary>
    public TimeSpan HandoffLifetime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an ended session stays readable.</summary>
    public TimeSpan EndedSessionRetention { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long refreshes may keep failing after the access token expired before the session ends
    /// (<c>refresh_failed</c>, docs/design.md §6): it can no longer produce a token.</summary>
    public TimeSpan RefreshGiveUpAfter { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long a refresh holds its lease before another silo may try (claim, then act).</summary>
    public TimeSpan RefreshLease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The period of every durable wake-up: how soon one that was missed (its silo died) comes again on
    /// another silo. With failure detection under 10 s it bounds how late a dead silo's refreshes run
    /// (docs/design.md §6: 40 s tokens, 20 s lead).
    /// </summary>
    public TimeSpan ReminderPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How many refreshes a silo runs at once; the others wait (<see cref="Sessions.RefreshSlots"/>).
    /// Each holds at most one database connection at a time, so this stays well under the connection pool.</summary>
    public int MaxConcurrentRefreshes { get; init; } = 64;

    /// <summary>How long a refresh waits for one of those slots within one grain turn before the session
    /// gives the turn up and asks again; well under Orleans' 30-second response timeout.</summary>
    public TimeSpan RefreshSlotWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a proxied call to a provider's API may take.</summary>
    public TimeSpan UpstreamCallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string CallbackUrl(string tenantId) => new Uri(PublicBaseUrl, $"t/{tenantId}/callback").ToString();

    /// <summary>The tenant's OpenID Provider issuer, <c>{PublicBaseUrl}/t/{tenant}</c>, exactly (no trailing slash).</summary>
    public string Issuer(string tenantId) => new Uri(PublicBaseUrl, $"t/{tenantId}").ToString();
}
