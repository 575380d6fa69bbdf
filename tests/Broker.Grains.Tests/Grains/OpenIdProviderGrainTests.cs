using Broker.Grains.Provider;
using Broker.Grains.Tenants;
using Broker.Testing.Runtime;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Broker.Grains.Tests.Grains;

/// <summary>What the OpenID Provider's grains do over time, on the fake clock: signing keys replaced every 30 days
/// and published a day longer, authorization codes that expire after 60 s.</summary>
public sealed class OpenIdProviderGrainTests
{
    [Fact]
    public async Task A_signing_key_is_replaced_after_30_days_and_the_old_one_stays_published_for_a_day()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var tenant = kit.Grains.Tenant(kit.TenantId);

        var first = Assert.Single((await tenant.GetSigningKeysAsync())!);
        kit.Clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        Assert.Equal([first], await tenant.GetSigningKeysAsync());
        Assert.Equal(first.Kid, KidOf(await tenant.SignAsync(kit.Tenant.Incarnation, """{"sub":"x"}""", "JWT")));

        kit.Clock.Advance(TimeSpan.FromSeconds(1));
        var token = await tenant.SignAsync(kit.Tenant.Incarnation, """{"sub":"x"}""", "JWT");
        var keys = (await tenant.GetSigningKeysAsync())!;
        Assert.Equal(2, keys.Count);
        Assert.Equal(first, keys[1]);
        Assert.Equal(keys[0].Kid, KidOf(token)); // the new key signs

        kit.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal([keys[0]], await tenant.GetSigningKeysAsync());

        // Stored encrypted: no PKCS#8 key (base64 "MII...") in the row.
        var stored = await kit.StoredJsonAsync<TenantState>("tenant", "tenant", "t:" + kit.TenantId);
        Assert.Contains("protectedPrivateKey", stored);
        Assert.DoesNotContain("\"MII", stored);
        Assert.Null(await tenant.SignAsync("another-life", """{"sub":"x"}""", "JWT"));
    }

    [Fact]
    public async Task An_authorization_code_expires_after_60_seconds()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var session = await kit.LoginAsync();
        var user = (await kit.Session(session).GetAsync(kit.Tenant))!.User.Id;
        var request = new OidcAuthorization("app", "https://app.example/cb", "s", "n", null, [OidcScopes.OpenId]);
        var expired = kit.Grains.AuthorizationCode("code-a" + new string('a', 37));
        var fresh = kit.Grains.AuthorizationCode("code-b" + new string('b', 37));
        await expired.IssueAsync(new CodeGrant(kit.Tenant, request, session, user, kit.Clock.GetUtcNow()));

        kit.Clock.Advance(TimeSpan.FromSeconds(60));
        await fresh.IssueAsync(new CodeGrant(kit.Tenant, request, session, user, kit.Clock.GetUtcNow()));

        var outcome = await expired.RedeemAsync(kit.Tenant, "app", "https://app.example/cb", null, offlineAllowed: false);
        Assert.Equal(("invalid_grant", null), (outcome.Error, outcome.Tokens));
        Assert.Contains("expired", outcome.Description);
        var tokens = (await fresh.RedeemAsync(kit.Tenant, "app", "https://app.example/cb", null, offlineAllowed: false)).Tokens!;
        Assert.Equal("n", new JsonWebToken(tokens.IdToken).GetClaim("nonce").Value);
        Assert.Null(tokens.RefreshToken);
    }

    private static string KidOf(string? token) => new JsonWebToken(token).Kid;
}
