using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Orleans.Storage;

namespace Broker.Grains.Provider;

public sealed class GrantState
{
    public CodeGrant? Grant { get; set; }
    public bool Offline { get; set; }

    /// <summary>SHA-256 of the current refresh token's secret; null when the grant has no refresh token.</summary>
    public string? RefreshHash { get; set; }
    public bool Revoked { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

[GrainType("grant")]
public sealed class GrantGrain(
    [PersistentState("grant", BrokerStorage.Name)] IPersistentState<GrantState> state,
    BrokerGrainOptions options,
    TimeProvider time) : Grain, IGrantGrain
{
    private string Id => GrainKeys.IdOf(this);

    public async Task<TokenOutcome> StartAsync(CodeGrant grant, bool offlineAllowed)
    {
        if (state.RecordExists)
            throw new InvalidOperationException("A grant starts once.");
        state.State = new GrantState
        {
            Grant = grant,
            Offline = offlineAllowed && grant.Request.Scopes.Contains(OidcScopes.OfflineAccess),
            CreatedAt = time.GetUtcNow(),
        };
        return await IssueAsync(fromCode: true);
    }

    public async Task<TokenOutcome> RefreshAsync(TenantRef tenant, string clientId, string refreshSecret)
    {
        if (state.State.Grant is not { } grant || grant.Tenant != tenant || grant.Request.ClientId != clientId)
            return TokenOutcome.InvalidGrant("The refresh token is unknown.");
        if (state.State.Revoked)
            return TokenOutcome.InvalidGrant("The refresh token was revoked.");
        if (!SecretHash.Matches(refreshSecret, state.State.RefreshHash))
        {
            // A refresh token already rotated away was presented: it was copied, so the whole grant goes (RFC 9700 §4.14.2).
            await RevokeAsync(tenant);
            return TokenOutcome.InvalidGrant("The refresh token was already used; the grant is revoked.");
        }
        return await IssueAsync(fromCode: false);
    }

    public async Task<GrantView?> GetAsync(TenantRef tenant)
    {
        if (state.State.Grant is not { } grant || grant.Tenant != tenant)
            return null;
        var active = !state.State.Revoked && await SessionIsActiveAsync(grant);
        return new GrantView(active, grant.Request.ClientId, grant.UserId, grant.SessionId, Scopes(grant));
    }

    public Task<bool> IsCurrentRefreshTokenAsync(TenantRef tenant, string refreshSecret) =>
        Task.FromResult(state.State.Grant?.Tenant == tenant && !state.State.Revoked && SecretHash.Matches(refreshSecret, state.State.RefreshHash));

    public async Task RevokeAsync(TenantRef tenant)
    {
        if (state.State.Grant?.Tenant != tenant || state.State.Revoked)
            return;
        state.State.Revoked = true;
        state.State.RefreshHash = null;
        await state.WriteStateAsync();
    }

    /// <summary>Rotates the refresh token (writing it first, so a lost race issues nothing), then signs the tokens.
    /// A refreshed id_token carries no nonce: a refresh is no authentication request (OIDC Core §12.2).</summary>
    private async Task<TokenOutcome> IssueAsync(bool fromCode)
    {
        var grant = state.State.Grant!;
        if (await GrainFactory.Session(grant.SessionId).GetAsync(grant.Tenant) is not { Status: "active" } session)
        {
            await RevokeAsync(grant.Tenant);
            return TokenOutcome.InvalidGrant("The sign-in this grant came from has ended.");
        }
        string? refreshToken = null;
        if (state.State.Offline)
        {
            var secret = RandomIds.New();
            state.State.RefreshHash = SecretHash.Of(secret);
            refreshToken = $"{Id}.{secret}";
        }
        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            await state.ReadStateAsync();
            return TokenOutcome.InvalidGrant("The refresh token was used concurrently.");
        }

        var tenant = GrainFactory.Tenant(grant.Tenant.Id);
        var issuer = options.Issuer(grant.Tenant.Id);
        var now = time.GetUtcNow();
        var scopes = Scopes(grant);
        var accessPayload = new JsonObject
        {
            ["iss"] = issuer, ["sub"] = grant.UserId, ["aud"] = grant.Request.ClientId, ["client_id"] = grant.Request.ClientId,
            ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = (now + OidcLifetimes.AccessToken).ToUnixTimeSeconds(),
            ["jti"] = RandomIds.New(), ["scope"] = string.Join(' ', scopes), ["sid"] = grant.SessionId, ["gid"] = Id,
        };
        var accessToken = await tenant.SignAsync(grant.Tenant.Incarnation, accessPayload.ToJsonString(), "at+jwt");
        if (accessToken is null)
            return TokenOutcome.InvalidGrant("The tenant no longer exists.");
        var idPayload = new JsonObject
        {
            ["iss"] = issuer, ["sub"] = grant.UserId, ["aud"] = grant.Request.ClientId,
            ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = (now + OidcLifetimes.IdToken).ToUnixTimeSeconds(),
            ["auth_time"] = grant.AuthTime.ToUnixTimeSeconds(), ["sid"] = grant.SessionId, ["at_hash"] = AtHash(accessToken),
        };
        if (fromCode && grant.Request.Nonce is { } nonce)
            idPayload["nonce"] = nonce;
        foreach (var (claim, value) in ProfileClaims(session.User, scopes))
            idPayload[claim] = value;
        var idToken = await tenant.SignAsync(grant.Tenant.Incarnation, idPayload.ToJsonString(), "JWT");
        return new TokenOutcome(new TokenSet(accessToken, (int)OidcLifetimes.AccessToken.TotalSeconds, idToken, refreshToken, string.Join(' ', scopes)));
    }

    /// <summary>The claims of the user's profile its scopes grant (OIDC Core §5.4), and the connection it signed in with.</summary>
    public static IEnumerable<(string Claim, string? Value)> ProfileClaims(UserView user, IReadOnlyList<string> scopes)
    {
        if (scopes.Contains(OidcScopes.Profile))
        {
            yield return ("name", user.Name);
            yield return ("picture", user.AvatarUrl);
        }
        if (scopes.Contains(OidcScopes.Email))
            yield return ("email", user.Email);
        yield return ("connection", user.Connection);
    }

    private IReadOnlyList<string> Scopes(CodeGrant grant) =>
        state.State.Offline ? grant.Request.Scopes : grant.Request.Scopes.Where(s => s != OidcScopes.OfflineAccess).ToList();

    private async Task<bool> SessionIsActiveAsync(CodeGrant grant) =>
        await GrainFactory.Session(grant.SessionId).GetAsync(grant.Tenant) is { Status: "active" };

    /// <summary>OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token, base64url.</summary>
    private static string AtHash(string accessToken) =>
        Base64Url.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)).AsSpan(0, 16));

}
