using Broker.Grains.Connectors;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Grains.Tests.Connectors;

public sealed class AuthorizeUrlTests
{
    [Fact]
    public async Task Oidc_authorize_url_carries_code_flow_pkce_nonce_state_and_default_scope()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var login = ConnectorTestKit.NewLogin();

        var redirect = await kit.Oidc().BuildAuthorizeRequestAsync(login.Input, CancellationToken.None);

        Assert.StartsWith($"{kit.Provider.Issuer}/authorize?", redirect.Url.AbsoluteUri);
        var query = QueryHelpers.ParseQuery(redirect.Url.Query);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal(kit.Provider.ClientId, query["client_id"]);
        Assert.Equal(ConnectorTestKit.RedirectUri, query["redirect_uri"]);
        Assert.Equal("openid profile email", query["scope"]);
        Assert.Equal(login.Input.State, query["state"]);
        Assert.Equal(login.Input.Nonce, query["nonce"]);
        Assert.Equal(login.Input.CodeChallenge, query["code_challenge"]);
        Assert.Equal("S256", query["code_challenge_method"]);
    }

    [Fact]
    public async Task A_logins_own_hints_reach_an_oidc_provider_and_win_over_the_connections_extras()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.Oidc(tweak: c => c with { ExtraAuthorizeParams = new Dictionary<string, string> { ["prompt"] = "consent", ["acr_values"] = "mfa" } });
        var input = ConnectorTestKit.NewLogin().Input with
        {
            Hints = new LoginHints("ada@example.com", "login", "zh-CN en", 300, ["calendar.read", "email"]),
        };

        var query = QueryHelpers.ParseQuery((await connector.BuildAuthorizeRequestAsync(input, CancellationToken.None)).Url.Query);

        Assert.Equal("openid profile email calendar.read", query["scope"]); // added once
        Assert.Equal(("ada@example.com", "login", "zh-CN en", "300"), (query["login_hint"].ToString(), query["prompt"].ToString(), query["ui_locales"].ToString(), query["max_age"].ToString()));
        Assert.Equal("mfa", query["acr_values"]); // the connection's other extras stay
        Assert.Single(query["prompt"]);
    }

    [Fact]
    public void A_plain_oauth2_provider_gets_the_extra_scopes_but_not_the_openid_hints()
    {
        var config = new ConnectionConfig { Id = "c", Type = ConnectionTypes.OAuth2, ClientId = "id", Scopes = ["user"] };
        var input = new AuthorizeInput("https://broker.example/t/a/callback", "state", "nonce", "challenge", new LoginHints("ada", "login", "en", 0, ["repo"]));

        var query = QueryHelpers.ParseQuery(Broker.Grains.Connectors.OAuth2.AuthorizeUrl.ForCodeFlow(config, "https://p.example/authorize", input, "user", sendNonce: false).Query);

        Assert.Equal("user repo", query["scope"]);
        Assert.DoesNotContain(query.Keys, k => k is "login_hint" or "prompt" or "ui_locales" or "max_age" or "nonce");
    }

    [Fact]
    public async Task Openid_is_always_requested_first_and_extra_params_are_encoded()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.Oidc(tweak: c => c with
        {
            Scopes = ["email", "offline_access"],
            ExtraAuthorizeParams = new Dictionary<string, string> { ["prompt"] = "consent", ["login_hint"] = "a b&c=d/é" },
        });

        var redirect = await connector.BuildAuthorizeRequestAsync(ConnectorTestKit.NewLogin().Input, CancellationToken.None);

        var query = QueryHelpers.ParseQuery(redirect.Url.Query);
        Assert.Equal("openid email offline_access", query["scope"]);
        Assert.Equal("consent", query["prompt"]);
        Assert.Equal("a b&c=d/é", query["login_hint"]);
        Assert.Contains("login_hint=a%20b%26c%3Dd%2F%C3%A9", redirect.Url.AbsoluteUri);
    }

    [Fact]
    public async Task Without_pkce_no_challenge_is_sent_and_oauth2_sends_no_nonce()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.OAuth2(tweak: c => c with { UsePkce = false, Scopes = ["read:user"] });

        var redirect = await connector.BuildAuthorizeRequestAsync(ConnectorTestKit.NewLogin().Input, CancellationToken.None);

        var query = QueryHelpers.ParseQuery(redirect.Url.Query);
        Assert.False(query.ContainsKey("code_challenge"));
        Assert.False(query.ContainsKey("code_challenge_method"));
        Assert.False(query.ContainsKey("nonce"));
        Assert.Equal("read:user", query["scope"]);
    }

    [Fact]
    public async Task An_authorize_endpoint_with_its_own_query_keeps_it()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.OAuth2(tweak: c => c with { Endpoints = c.Endpoints with { Authorize = $"{kit.Provider.Issuer}/authorize?tenant=x" } });

        var redirect = await connector.BuildAuthorizeRequestAsync(ConnectorTestKit.NewLogin().Input, CancellationToken.None);

        Assert.StartsWith($"{kit.Provider.Issuer}/authorize?tenant=x&response_type=code&", redirect.Url.AbsoluteUri);
    }

    [Fact]
    public async Task Pkce_on_without_a_challenge_is_a_caller_bug_not_a_silent_downgrade()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var input = ConnectorTestKit.NewLogin().Input with { CodeChallenge = null };

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await kit.OAuth2().BuildAuthorizeRequestAsync(input, CancellationToken.None));
    }

    [Fact]
    public async Task Logout_url_is_the_end_session_endpoint_with_hint_and_post_logout_redirect()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = (ILogoutConnector)kit.Oidc();

        var url = await connector.BuildLogoutUrlAsync(new LogoutInput("the.id.token", "https://app.example/bye?x=1", "s1"), CancellationToken.None);

        Assert.NotNull(url);
        Assert.Equal($"{kit.Provider.Issuer}/end-session", url.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(url.Query);
        Assert.Equal("the.id.token", query["id_token_hint"]);
        Assert.Equal("https://app.example/bye?x=1", query["post_logout_redirect_uri"]);
        Assert.Equal(kit.Provider.ClientId, query["client_id"]);
        Assert.Equal("s1", query["state"]);
    }

    [Fact]
    public async Task An_oauth2_connection_without_a_logout_endpoint_has_no_logout_url()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = (ILogoutConnector)kit.OAuth2(tweak: c => c with { Endpoints = c.Endpoints with { Logout = null } });

        Assert.Null(await connector.BuildLogoutUrlAsync(new LogoutInput(null, "https://app.example/"), CancellationToken.None));
    }
}
