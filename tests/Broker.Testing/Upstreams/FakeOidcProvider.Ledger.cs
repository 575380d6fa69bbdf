using System.Collections.Concurrent;

namespace Broker.Testing.Upstreams;

/// <summary>
/// One access token the provider issued. Tokens of one login form a <see cref="Chain"/>: the
/// authorization_code grant starts it (sequence 0) and each refresh that presented the chain's
/// current refresh token adds the next one.
/// </summary>
/// <param name="Chain">The login this token belongs to (one per authorization code redeemed).</param>
/// <param name="Sequence">0 for the code exchange, then 1, 2, ... per refresh.</param>
/// <param name="Grant"><c>authorization_code</c> or <c>refresh_token</c>.</param>
/// <param name="User">Who the token is for.</param>
/// <param name="IssuedAt">When it was issued (the provider's clock).</param>
/// <param name="AccessTokenExpiresAt">When the access token expires.</param>
/// <param name="PresentedRefreshToken">The refresh token spent to get it (refresh grants).</param>
/// <param name="RefreshToken">The refresh token issued with it, if any.</param>
public sealed record TokenIssue(
    string Chain,
    int Sequence,
    string Grant,
    FakeUser User,
    DateTimeOffset IssuedAt,
    DateTimeOffset AccessTokenExpiresAt,
    string? PresentedRefreshToken,
    string? RefreshToken);

/// <summary>A refresh the provider refused with invalid_grant.</summary>
/// <param name="Chain">The chain of the presented token; null when the token was unknown.</param>
/// <param name="User">Whose token it was; null when unknown.</param>
/// <param name="At">When.</param>
/// <param name="Reason"><c>reused</c> (already spent: RFC 6819 §5.2.2.3 reuse), <c>revoked</c> or <c>unknown</c>.</param>
public sealed record RefreshRefusal(string? Chain, FakeUser? User, DateTimeOffset At, string Reason);

public sealed partial class FakeOidcProvider
{
    private readonly ConcurrentQueue<TokenIssue> tokenLog = new();
    private readonly ConcurrentQueue<RefreshRefusal> refusals = new();
    private int chains;

    /// <summary>When set, the authorize endpoint signs in the user this returns (one call per login)
    /// instead of <see cref="User"/>: e.g. a distinct subject per login.</summary>
    public Func<FakeUser>? NextUser { get; set; }

    /// <summary>Delays every refresh_token grant by this much before answering (a slow provider,
    /// so that refreshes are in flight long enough to be caught by a stop). Default none.</summary>
    public TimeSpan RefreshDelay { get; set; }

    /// <summary>When set, every refresh_token grant waits for this task before answering: refreshes held in
    /// flight for as long as a test needs. Default none.</summary>
    public Task? HoldRefreshes { get; set; }

    /// <summary>refresh_token grants being answered now.</summary>
    public int RefreshesInFlight => refreshesInFlight;

    /// <summary>The most refresh_token grants ever answered at once.</summary>
    public int MostRefreshesInFlight => mostRefreshesInFlight;

    private int refreshesInFlight;
    private int mostRefreshesInFlight;

    /// <summary>Delays every authorization_code grant by this much (a callback kept in flight). Default none.</summary>
    public TimeSpan CodeExchangeDelay { get; set; }

    /// <summary>Every access token issued, in issue order, with its chain (see <see cref="TokenIssue"/>).</summary>
    public IReadOnlyList<TokenIssue> TokenLog => tokenLog.ToArray();

    /// <summary>Every refresh refused with invalid_grant.</summary>
    public IReadOnlyList<RefreshRefusal> RefusedRefreshes => refusals.ToArray();

    /// <summary>How many refreshes presented a refresh token that had already been spent.</summary>
    public int RefreshTokenReuseCount => refusals.Count(r => r.Reason == "reused");

    private string NewChain() => $"chain-{Interlocked.Increment(ref chains)}";

    private void RecordIssue(TokenIssue issue) => tokenLog.Enqueue(issue);

    private void RecordRefusal(RefreshGrant? grant, string reason) =>
        refusals.Enqueue(new RefreshRefusal(grant?.Chain, grant?.User, Clock.GetUtcNow(), reason));
}
