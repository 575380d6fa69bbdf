namespace Broker.Grains.Sessions;

/// <summary>When a session next needs attention; pure functions of its state, so every silo agrees.</summary>
public static class SessionSchedule
{
    private static readonly TimeSpan RevocationRetry = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxRefreshBackoff = TimeSpan.FromSeconds(60);

    /// <summary>
    /// When the access token should be refreshed: <c>lead</c> before it expires, or at half its life
    /// when it lives less than twice the lead (docs/design.md §6); after a transient failure, the retry
    /// time. Null when it is never refreshed (no refresh token, no expiry, or no refresh support).
    /// </summary>
    public static DateTimeOffset? RefreshDueAt(SessionState s)
    {
        if (s.ProtectedRefreshToken is null || s.AccessTokenExpiresAt is not { } expires || s.RefreshUnsupported)
            return null;
        if (s.RetryRefreshAt is { } retry)
            return retry;
        var life = expires - s.AccessTokenIssuedAt;
        var lead = TimeSpan.FromSeconds(s.RefreshLeadSeconds);
        return life < 2 * lead ? s.AccessTokenIssuedAt + life / 2 : expires - lead;
    }

    /// <summary>
    /// From when the session can no longer produce a token (docs/design.md §6, <c>refresh_failed</c>): its access
    /// token has expired and nothing will renew it, because there is no refresh token or the connector does not
    /// refresh, or because the refreshes have kept failing for <paramref name="giveUp"/>. Null while it can.
    /// </summary>
    public static DateTimeOffset? CannotRenewAfter(SessionState s, TimeSpan giveUp)
    {
        if (s.AccessTokenExpiresAt is not { } expires)
            return null;
        if (s.ProtectedRefreshToken is null || s.RefreshUnsupported)
            return expires;
        return s.RefreshFailingSince is { } since ? Max(expires, since + giveUp) : null;
    }

    /// <summary>The next time the session's reminder must fire.</summary>
    public static DateTimeOffset NextTick(SessionState s, TimeSpan endedRetention, TimeSpan refreshGiveUp, DateTimeOffset now)
    {
        if (s.Status == SessionStatus.Ended)
        {
            var purgeAt = s.EndedAt!.Value + endedRetention;
            return s.RevocationPending ? Min(now + RevocationRetry, purgeAt) : purgeAt;
        }
        var next = RefreshDueAt(s) is { } refresh ? Min(refresh, s.ExpiresAt) : s.ExpiresAt;
        return CannotRenewAfter(s, refreshGiveUp) is { } dead ? Min(next, dead) : next;
    }

    /// <summary>Exponential backoff after transient refresh failures: 2, 4, 8 ... seconds, at most a minute.</summary>
    public static TimeSpan Backoff(int failures) =>
        TimeSpan.FromSeconds(Math.Min(Math.Pow(2, Math.Min(failures, 10)), MaxRefreshBackoff.TotalSeconds));

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
