using System.Text.Json.Nodes;
using Broker.Grains.Connectors;

namespace Broker.Grains.Tests.Connectors;

/// <summary>Discovery, key rollover and the userinfo half of an OIDC login.</summary>
public sealed class OidcDiscoveryAndProfileTests
{
    [Fact]
    public async Task An_unknown_kid_triggers_one_jwks_refetch_and_succeeds_after_rotation()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.Oidc();
        await kit.LoginAsync(connector);
        Assert.Single(kit.Provider.RequestsTo("/jwks"));

        kit.Provider.Keys.RotateRsa();
        kit.Clock.Advance(TimeSpan.FromMinutes(1));
        var result = await kit.LoginAsync(connector);

        Assert.Equal("user-1", result.Profile.Subject);
        Assert.Equal(2, kit.Provider.RequestsTo("/jwks").Count);
    }

    [Fact]
    public async Task Unknown_kids_do_not_refetch_the_jwks_more_than_once_per_interval()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.Oidc();
        await kit.LoginAsync(connector);
        kit.Provider.IdTokenOverride = claims => kit.Provider.Keys.Sign(claims, kid: "made-up");

        kit.Clock.Advance(TimeSpan.FromMinutes(1));
        await kit.AssertLoginRejectedAsync("signature");
        await kit.AssertLoginRejectedAsync("signature");
        await kit.AssertLoginRejectedAsync("signature");

        Assert.Equal(2, kit.Provider.RequestsTo("/jwks").Count);
    }

    [Fact]
    public async Task A_discovery_issuer_that_differs_from_the_configured_one_is_a_misconfiguration()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.Oidc(tweak: c => c with { Issuer = c.Issuer + "/" });

        var error = await Assert.ThrowsAsync<ConnectorException>(async () =>
            await connector.BuildAuthorizeRequestAsync(ConnectorTestKit.NewLogin().Input, CancellationToken.None));

        Assert.Equal(ConnectorErrorKind.Misconfigured, error.Kind);
    }

    [Fact]
    public async Task Without_a_userinfo_endpoint_the_profile_is_the_id_token()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.PublishUserinfo = false;

        var profile = (await kit.LoginAsync(kit.Oidc())).Profile;

        Assert.Equal("Test User", profile.Name);
        Assert.Null(profile.AvatarUrl);
        Assert.Empty(kit.Provider.RequestsTo("/userinfo"));
    }

    [Fact]
    public async Task The_profile_merges_id_token_claims_with_userinfo()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.UserinfoExtra = new JsonObject { ["locale"] = "zh-CN", ["name"] = "Name From Userinfo" };

        var profile = (await kit.LoginAsync(kit.Oidc())).Profile;

        Assert.Equal("Name From Userinfo", profile.Name);
        Assert.Equal("zh-CN", profile.Raw["locale"]!.GetValue<string>());
        Assert.Equal(kit.Provider.Issuer, profile.Raw["iss"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_userinfo_subject_that_differs_from_the_id_token_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.UserinfoExtra = new JsonObject { ["sub"] = "someone-else" };

        await kit.AssertLoginRejectedAsync("userinfo");
    }

    [Fact]
    public async Task A_refreshed_id_token_is_validated_and_must_keep_the_subject()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = (IRefreshConnector)kit.Oidc();
        var login = await kit.LoginAsync(connector);
        kit.Provider.IdTokenOnRefresh = true;
        kit.Clock.Advance(TimeSpan.FromMinutes(10));

        var refreshed = await connector.RefreshAsync(login.Tokens, CancellationToken.None);
        Assert.NotEqual(login.Tokens.IdToken, refreshed.IdToken);

        kit.SignIdToken(claims => claims["sub"] = "someone-else");
        var error = await Assert.ThrowsAsync<ConnectorException>(() => connector.RefreshAsync(refreshed, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, error.Kind);

        // The refresh token above was spent by the refused refresh, so start again.
        kit.Provider.IdTokenOverride = null;
        var again = await kit.LoginAsync(connector);
        kit.SignIdToken(claims => claims["aud"] = "another-client");
        var forged = await Assert.ThrowsAsync<ConnectorException>(() => connector.RefreshAsync(again.Tokens, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidCallback, forged.Kind);
    }
}
