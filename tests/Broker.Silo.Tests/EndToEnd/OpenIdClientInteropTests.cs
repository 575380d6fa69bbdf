using System.Net;
using System.Text.Json.Nodes;
using Broker.Testing;
using Broker.Testing.Processes;
using Broker.Testing.Upstreams;

namespace Broker.Silo.Tests.EndToEnd;

/// <summary>
/// The broker's OpenID Provider as the npm <c>openid-client</c> (a certified relying party nobody here wrote) sees it,
/// with the broker a real silo process and the fake OIDC provider upstream: discovery, the code flow with PKCE,
/// the library's own id_token checks (signature by the JWKS, iss, aud, exp, nonce, state and RFC 9207 iss), userinfo,
/// refresh with rotation, revocation, and RP-initiated logout ending the broker session.
/// </summary>
public sealed class OpenIdClientInteropTests
{
    private const string Tenant = "op-interop";
    private static readonly string ProjectDirectory = Path.Combine(RepositoryRoot.Path, "tests", "clients", "openid-client");

    [Fact]
    public async Task Openid_client_signs_in_refreshes_revokes_and_logs_out_through_the_broker()
    {
        await NodeProject.EnsureInstalledAsync(ProjectDirectory, "openid-client");
        await using var upstream = await FakeOidcProvider.StartAsync(TimeProvider.System);
        await using var broker = await BrokerUnderTest.StartAsync(BrokerUnderTest.ReservePort(), Tenant);
        using (var put = await broker.SendAsync(HttpMethod.Put, $"/api/tenants/{Tenant}/connections/upstream", new
        {
            type = "oidc", clientId = upstream.ClientId, clientSecret = upstream.ClientSecret, issuer = upstream.Issuer,
        }))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var registered = await broker.JsonAsync(HttpMethod.Put, $"/api/tenants/{Tenant}/clients/node-app", new
        {
            redirectUris = new[] { "http://127.0.0.1:9/cb" }, postLogoutRedirectUris = new[] { "http://127.0.0.1:9/bye" }, offlineAccess = true,
        });
        var issuer = new Uri(broker.Silo.BaseAddress, $"/t/{Tenant}").ToString();

        var (exitCode, output, errors) = await NodeProject.RunAsync("node",
            ["rp.mjs", issuer, "node-app", registered["clientSecret"]!.GetValue<string>(), "http://127.0.0.1:9/cb", "http://127.0.0.1:9/bye"],
            ProjectDirectory, TimeSpan.FromMinutes(2));

        Assert.True(exitCode == 0, $"openid-client failed ({exitCode}):\n{errors}\n{output}");
        var seen = JsonNode.Parse(output.Trim().Split('\n')[^1])!.AsObject();
        Assert.Equal(issuer, seen["iss"]!.GetValue<string>());
        Assert.Equal("node-app", seen["aud"]!.GetValue<string>());
        var sub = seen["sub"]!.GetValue<string>();
        Assert.StartsWith("usr_", sub);
        Assert.Equal((sub, sub), (seen["userinfoSub"]!.GetValue<string>(), seen["refreshedSub"]!.GetValue<string>()));
        Assert.Equal((upstream.User.Email, upstream.User.Email), (seen["email"]!.GetValue<string>(), seen["userinfoEmail"]!.GetValue<string>()));
        Assert.True(seen["rotated"]!.GetValue<bool>());
        Assert.Equal("invalid_grant", seen["refreshAfterRevocation"]!.GetValue<string>());
        Assert.Equal(302, seen["endStatus"]!.GetValue<int>());
        Assert.Contains("bye", Uri.UnescapeDataString(seen["endLocation"]!.GetValue<string>()));

        // The logout ended the broker session that the id_token's sid named.
        var session = await broker.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}/sessions/{seen["sid"]!.GetValue<string>()}");
        Assert.Equal(("ended", "logout", sub), (session["status"]!.GetValue<string>(), session["endReason"]!.GetValue<string>(), session["user"]!["id"]!.GetValue<string>()));
    }
}
