using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors;
using Broker.Testing.Upstreams;

namespace Broker.Grains.Tests.Connectors;

/// <summary>Each rule of OIDC Core §3.1.3.7 the broker enforces, with a token that tries to break it.</summary>
public sealed class IdTokenValidationTests
{
    [Theory]
    [InlineData("RS256")]
    [InlineData("PS256")]
    [InlineData("ES256")]
    public async Task Tokens_signed_with_a_published_key_are_accepted(string alg)
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.IdTokenAlgorithm = alg;

        var result = await kit.LoginAsync(kit.Oidc());

        Assert.Equal("user-1", result.Profile.Subject);
        Assert.Equal("Test User", result.Profile.Name);
        Assert.Equal("user1@example.com", result.Profile.Email);
        Assert.Equal("https://example.com/u1.png", result.Profile.AvatarUrl);
    }

    [Fact]
    public async Task A_signature_from_another_key_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        using var stranger = RSA.Create(2048);
        kit.Provider.IdTokenOverride = claims => FakeJwt.Create(
            new JsonObject { ["alg"] = "RS256", ["kid"] = kit.Provider.Keys.RsaKeyId },
            claims,
            data => stranger.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        await kit.AssertLoginRejectedAsync("signature");
    }

    [Fact]
    public async Task A_tampered_payload_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.IdTokenOverride = claims =>
        {
            var parts = kit.Provider.Keys.Sign(claims).Split('.');
            claims["sub"] = "admin";
            var forged = Base64Url.Encode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
            return $"{parts[0]}.{forged}.{parts[2]}";
        };

        await kit.AssertLoginRejectedAsync("signature");
    }

    [Fact]
    public async Task Alg_none_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.IdTokenOverride = FakeJwt.Unsecured;

        await kit.AssertLoginRejectedAsync("algorithm");
    }

    [Fact]
    public async Task Hs256_keyed_with_the_rsa_public_key_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var publicPem = Encoding.UTF8.GetBytes(kit.Provider.Keys.Rsa.ExportSubjectPublicKeyInfoPem());
        kit.Provider.IdTokenOverride = claims => FakeJwt.Hs256(claims, publicPem, kit.Provider.Keys.RsaKeyId);

        await kit.AssertLoginRejectedAsync("algorithm");
    }

    [Fact]
    public async Task Hs256_with_the_rsa_public_key_is_rejected_even_where_hs256_is_allowed()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var publicPem = Encoding.UTF8.GetBytes(kit.Provider.Keys.Rsa.ExportSubjectPublicKeyInfoPem());
        kit.Provider.IdTokenOverride = claims => FakeJwt.Hs256(claims, publicPem, kit.Provider.Keys.RsaKeyId);
        var connector = kit.Oidc(tweak: AllowHs256);

        var error = await Assert.ThrowsAsync<ConnectorException>(() => kit.LoginAsync(connector));

        Assert.Equal(ConnectorErrorKind.InvalidCallback, error.Kind);
        Assert.Contains("signature", error.Message);
    }

    [Fact]
    public async Task Hs256_keyed_with_the_client_secret_is_accepted_when_the_connection_names_it()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.IdTokenOverride = claims => FakeJwt.Hs256(claims, Encoding.UTF8.GetBytes(kit.Provider.ClientSecret));

        var result = await kit.LoginAsync(kit.Oidc(tweak: AllowHs256));

        Assert.Equal("user-1", result.Profile.Subject);
    }

    [Fact]
    public async Task An_alg_that_does_not_fit_the_key_type_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        // ES256 in the header, but the RSA key's kid: no EC key with that kid exists.
        kit.Provider.IdTokenOverride = claims => kit.Provider.Keys.Sign(claims, "ES256", kid: kit.Provider.Keys.RsaKeyId);

        await kit.AssertLoginRejectedAsync("signature");
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("{issuer}/")]
    [InlineData("{ISSUER}")]
    public async Task A_different_issuer_is_rejected_including_a_trailing_slash(string issuer)
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var forged = issuer.Replace("{issuer}", kit.Provider.Issuer).Replace("{ISSUER}", kit.Provider.Issuer.ToUpperInvariant());
        kit.SignIdToken(claims => claims["iss"] = forged);

        await kit.AssertLoginRejectedAsync("issuer");
    }

    [Fact]
    public async Task Another_audience_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.SignIdToken(claims => claims["aud"] = "someone-else");

        await kit.AssertLoginRejectedAsync("aud");
    }

    [Fact]
    public async Task Several_audiences_need_an_azp_naming_this_client()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.SignIdToken(claims => claims["aud"] = new JsonArray(kit.Provider.ClientId, "other-api"));

        await kit.AssertLoginRejectedAsync("azp");

        kit.SignIdToken(claims =>
        {
            claims["aud"] = new JsonArray(kit.Provider.ClientId, "other-api");
            claims["azp"] = kit.Provider.ClientId;
        });
        Assert.Equal("user-1", (await kit.LoginAsync(kit.Oidc())).Profile.Subject);
    }

    [Fact]
    public async Task An_azp_naming_another_client_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.SignIdToken(claims => claims["azp"] = "other-client");

        await kit.AssertLoginRejectedAsync("azp");
    }

    [Fact]
    public async Task Expired_beyond_the_clock_skew_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync(clockSkew: TimeSpan.FromMinutes(2));
        kit.SignIdToken(claims => claims["exp"] = kit.Clock.GetUtcNow().ToUnixTimeSeconds() - 121);

        await kit.AssertLoginRejectedAsync("expired");
    }

    [Fact]
    public async Task Expired_within_the_clock_skew_is_accepted()
    {
        await using var kit = await ConnectorTestKit.StartAsync(clockSkew: TimeSpan.FromMinutes(2));
        kit.SignIdToken(claims => claims["exp"] = kit.Clock.GetUtcNow().ToUnixTimeSeconds() - 60);

        Assert.Equal("user-1", (await kit.LoginAsync(kit.Oidc())).Profile.Subject);
    }

    [Fact]
    public async Task Issued_in_the_future_or_not_yet_valid_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var now = kit.Clock.GetUtcNow().ToUnixTimeSeconds();
        kit.SignIdToken(claims => claims["iat"] = now + 600);
        await kit.AssertLoginRejectedAsync("iat");

        kit.SignIdToken(claims => claims["nbf"] = now + 600);
        await kit.AssertLoginRejectedAsync("nbf");

        kit.SignIdToken(claims => claims.Remove("exp"));
        await kit.AssertLoginRejectedAsync("expired");
    }

    [Fact]
    public async Task A_wrong_or_missing_nonce_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.SignIdToken(claims => claims["nonce"] = "replayed-nonce");
        await kit.AssertLoginRejectedAsync("nonce");

        kit.SignIdToken(claims => claims.Remove("nonce"));
        await kit.AssertLoginRejectedAsync("nonce");
    }

    [Fact]
    public async Task A_crit_header_is_rejected()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.IdTokenOverride = claims => FakeJwt.Create(
            new JsonObject { ["alg"] = "RS256", ["kid"] = kit.Provider.Keys.RsaKeyId, ["crit"] = new JsonArray("exp") },
            claims,
            data => kit.Provider.Keys.Rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        await kit.AssertLoginRejectedAsync("crit");
    }

    private static ConnectionConfig AllowHs256(ConnectionConfig config) =>
        config with { Options = new Dictionary<string, string> { ["idTokenSigningAlgs"] = "HS256,RS256" } };
}
