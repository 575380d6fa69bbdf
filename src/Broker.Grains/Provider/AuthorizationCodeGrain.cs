using Broker.Grains.Connectors;
using Broker.Grains.Security;
using Broker.Grains.Tenants;
using Orleans.Storage;

namespace Broker.Grains.Provider;

public sealed class AuthorizationCodeState
{
    public CodeGrant? Grant { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Set when the code was redeemed: the grant its tokens belong to.</summary>
    public string? GrantId { get; set; }
}

/// <remarks>The state of a spent or expired code is kept until the host's storage housekeeping deletes it, an
/// hour on: long enough to recognise a replay and revoke what the code gave.</remarks>
[GrainType("authorization-code")]
public sealed class AuthorizationCodeGrain(
    [PersistentState("authorization-code", BrokerStorage.Name)] IPersistentState<AuthorizationCodeState> state,
    TimeProvider time) : Grain, IAuthorizationCodeGrain
{
    public async Task IssueAsync(CodeGrant grant)
    {
        if (state.RecordExists)
            throw new InvalidOperationException("A code is issued once.");
        state.State = new AuthorizationCodeState { Grant = grant, ExpiresAt = time.GetUtcNow() + OidcLifetimes.Code };
        await state.WriteStateAsync();
    }

    public async Task<TokenOutcome> RedeemAsync(TenantRef tenant, string clientId, string? redirectUri, string? codeVerifier, bool offlineAllowed)
    {
        if (state.State.Grant is not { } grant || grant.Tenant != tenant)
            return TokenOutcome.InvalidGrant("The code is unknown.");
        if (state.State.GrantId is { } spent)
        {
            // A replay: whoever holds the code may be an attacker, so what its first use gave is revoked.
            await GrainFactory.Grant(spent).RevokeAsync(tenant);
            return TokenOutcome.InvalidGrant("The code was already used; the tokens it gave are revoked.");
        }
        if (time.GetUtcNow() >= state.State.ExpiresAt)
            return TokenOutcome.InvalidGrant("The code has expired.");
        if (grant.Request.ClientId != clientId)
            return TokenOutcome.InvalidGrant("The code was issued to another client.");
        if (grant.Request.RedirectUri != redirectUri)
            return TokenOutcome.InvalidGrant("redirect_uri is not the one the code was sent to.");
        if (grant.Request.CodeChallenge is { } challenge
            ? codeVerifier is null || !Pkce.Verifies(codeVerifier, challenge)
            : codeVerifier is not null)
            return TokenOutcome.InvalidGrant("The PKCE code_verifier does not match the code_challenge.");

        // Claim, then act: the redemption is stored before any token exists, so two redemptions racing on two
        // activations cannot both get tokens.
        var grantId = RandomIds.New();
        state.State.GrantId = grantId;
        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            await state.ReadStateAsync();
            return TokenOutcome.InvalidGrant("The code was already used.");
        }
        return await GrainFactory.Grant(grantId).StartAsync(grant, offlineAllowed);
    }
}
