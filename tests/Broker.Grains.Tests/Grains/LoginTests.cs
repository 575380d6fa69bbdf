using Broker.Grains.Connectors;
using Broker.Grains.Logins;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Broker.Testing.Runtime;
using Broker.Testing.Upstreams;

namespace Broker.Grains.Tests.Grains;

public sealed class LoginTests
{
    [Fact]
    public async Task A_login_hands_back_a_code_with_the_app_state_and_the_state_cannot_be_replayed()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, callback) = await kit.AuthorizeAsync();
        var login = kit.Grains.PendingLogin(state);

        var success = Assert.IsType<CompleteLoginResult.Success>(await login.CompleteAsync(kit.Tenant, callback));
        Assert.Equal(("https://app.example/done", "app-state"), (success.ReturnTo, success.AppState));
        Assert.True(Broker.Grains.Sessions.HandoffCodes.IsWellFormed(success.HandoffCode));
        Assert.NotNull(kit.SessionOf(success.HandoffCode));

        Assert.IsType<CompleteLoginResult.Rejected>(await login.CompleteAsync(kit.Tenant, callback));
        Assert.Null(await kit.StoredJsonAsync<PendingLoginState>("login", "login", "l:" + state));
        Assert.Single(kit.Provider.RequestsTo("/token")); // the replay never reached the provider
    }

    [Fact]
    public async Task A_callback_on_another_tenants_url_is_rejected_without_using_the_login_up()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, callback) = await kit.AuthorizeAsync();
        var login = kit.Grains.PendingLogin(state);

        Assert.IsType<CompleteLoginResult.Rejected>(await login.CompleteAsync(new TenantRef("another-tenant", ""), callback));

        Assert.IsType<CompleteLoginResult.Success>(await login.CompleteAsync(kit.Tenant, callback));
    }

    [Fact]
    public async Task Two_silos_completing_one_state_at_once_make_one_session()
    {
        await using var kit = await BrokerGrainsKit.StartAsync(silos: 2);
        var (state, callback) = await kit.AuthorizeAsync();

        var outcomes = await Task.WhenAll(
            kit.GrainsOn(0).PendingLogin(state).CompleteAsync(kit.Tenant, callback),
            kit.GrainsOn(1).PendingLogin(state).CompleteAsync(kit.Tenant, callback));

        Assert.Single(outcomes, o => o is CompleteLoginResult.Success);
        Assert.Single(outcomes, o => o is CompleteLoginResult.Rejected);
        Assert.Single(kit.Provider.RequestsTo("/token"));
    }

    [Fact]
    public async Task The_same_person_logging_in_on_two_silos_at_once_gets_two_sessions_on_one_user()
    {
        await using var kit = await BrokerGrainsKit.StartAsync(silos: 2);
        for (var round = 0; round < 5; round++)
        {
            var (first, firstCallback) = await kit.AuthorizeAsync();
            var (second, secondCallback) = await kit.AuthorizeAsync();

            var outcomes = await Task.WhenAll(
                kit.GrainsOn(0).PendingLogin(first).CompleteAsync(kit.Tenant, firstCallback),
                kit.GrainsOn(1).PendingLogin(second).CompleteAsync(kit.Tenant, secondCallback));

            Assert.All(outcomes, o => Assert.IsType<CompleteLoginResult.Success>(o));
        }
        var userId = (await kit.Session(await kit.LoginAsync()).GetAsync(kit.Tenant))!.User.Id;
        var sessions = await kit.Grains.User(userId).ListSessionsAsync(kit.Tenant);
        Assert.Equal(11, sessions!.Count);
    }

    [Fact]
    public async Task An_expired_login_is_rejected_without_reaching_the_provider()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, callback) = await kit.AuthorizeAsync();

        kit.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.IsType<CompleteLoginResult.Rejected>(await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback));

        // A rejection does not use the login up; an unused one is left to the host's storage housekeeping.
        Assert.NotNull(await kit.StoredJsonAsync<PendingLoginState>("login", "login", "l:" + state));
        Assert.Empty(kit.Provider.RequestsTo("/token"));
    }

    [Theory]
    [InlineData("access_denied", "access_denied")]
    [InlineData("login_required", "login_required")]
    [InlineData("consent_required", "consent_required")]
    [InlineData("something_odd<script>", "server_error")]
    public async Task An_upstream_error_goes_back_to_the_app_when_standard_and_as_server_error_otherwise(string upstream, string toApp)
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, _) = await kit.AuthorizeAsync();

        var outcome = await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, new CallbackInput(null, upstream));

        var error = Assert.IsType<CompleteLoginResult.AppError>(outcome);
        Assert.Equal((toApp, "app-state"), (error.Error, error.AppState));
    }

    [Fact]
    public async Task The_providers_error_description_reaches_the_app_printable_capped_and_without_the_code()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, _) = await kit.AuthorizeAsync();
        var echoed = "Denied.\r\nCode the-code-4711 was not accepted " + new string('x', 400);

        var error = Assert.IsType<CompleteLoginResult.AppError>(
            await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, new CallbackInput("the-code-4711", "access_denied", echoed)));

        Assert.Equal("access_denied", error.Error);
        Assert.StartsWith("Denied.  Code [code] was not accepted xxx", error.Description);
        Assert.Equal(AppErrorCodes.MaxDescriptionLength, error.Description!.Length);
        Assert.DoesNotContain(error.Description, char.IsControl);
    }

    [Fact]
    public async Task A_code_that_is_not_passed_on_is_named_in_the_description_of_the_server_error()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, _) = await kit.AuthorizeAsync();

        var error = Assert.IsType<CompleteLoginResult.AppError>(
            await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, new CallbackInput(null, "quota_exceeded", "Too many users today")));

        Assert.Equal(("server_error", "The provider reported 'quota_exceeded': Too many users today"), (error.Error, error.Description));
    }

    [Fact]
    public async Task A_failing_token_endpoint_becomes_an_app_error_not_a_session()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, callback) = await kit.AuthorizeAsync();
        kit.Provider.FailNext(FakeEndpoint.Token, FakeFailure.OAuthError("invalid_grant"));

        var error = Assert.IsType<CompleteLoginResult.AppError>(await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback));

        Assert.Equal("server_error", error.Error);
        Assert.StartsWith("The provider refused the authorization code", error.Description);
        Assert.DoesNotContain(callback.Code!, error.Description);
    }

    [Fact]
    public async Task A_client_secret_rotated_while_a_login_is_in_flight_lets_that_login_finish()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, callback) = await kit.AuthorizeAsync(); // begun under the old secret
        // The provider switches to a new secret, and the tenant PUTs it, before the user comes back.
        kit.Provider.ClientSecret = "rotated-secret";
        await kit.Grains.Tenant(kit.TenantId).PutConnectionAsync(
            kit.Provider.OidcConnection() with { Id = BrokerGrainsKit.Connection, ClientSecret = "rotated-secret" });

        var outcome = await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback);

        Assert.IsType<CompleteLoginResult.Success>(outcome);
        Assert.Contains("rotated-secret", Base64Basic(kit.Provider.RequestsTo("/token").Last().Authorization));
    }

    [Fact]
    public async Task A_secret_the_provider_no_longer_takes_fails_the_login_cleanly()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, callback) = await kit.AuthorizeAsync();
        kit.Provider.ClientSecret = "rotated-secret"; // rotated upstream, not yet at the broker

        var outcome = await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback);

        var error = Assert.IsType<CompleteLoginResult.AppError>(outcome);
        Assert.Equal("server_error", error.Error);
        // What failed, in words; never the secret the broker sent or the code it tried.
        Assert.False(string.IsNullOrEmpty(error.Description));
        Assert.DoesNotContain(kit.Provider.OidcConnection().ClientSecret!, error.Description);
        Assert.DoesNotContain(callback.Code!, error.Description);
    }

    private static string Base64Basic(string? authorization) =>
        System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(authorization!["Basic ".Length..]));

    [Fact]
    public async Task A_login_on_a_missing_connection_does_not_begin()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        await kit.Grains.Tenant(kit.TenantId).DeleteConnectionAsync(BrokerGrainsKit.Connection);

        var begin = await kit.BeginAsync(RandomIds.New());

        Assert.Equal("connection_not_found", Assert.IsType<BeginLoginResult.Failed>(begin).Code);
    }

    [Fact]
    public async Task The_authorize_request_carries_pkce_nonce_state_and_the_tenant_callback()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var state = RandomIds.New();

        var redirect = Assert.IsType<BeginLoginResult.Redirect>(await kit.BeginAsync(state));

        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(redirect.AuthorizeUrl.Query);
        Assert.Equal(state, query["state"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(query["nonce"]));
        Assert.Equal($"https://broker.example/t/{kit.TenantId}/callback", query["redirect_uri"]);
        var stored = await kit.StoredJsonAsync<PendingLoginState>("login", "login", "l:" + state);
        Assert.DoesNotContain(query["code_challenge"].ToString(), stored!); // the verifier is stored encrypted, not derivable
    }
}

public sealed class HandoffAndUserTests
{
    [Fact]
    public async Task A_handoff_code_is_redeemed_once_by_its_own_tenant_within_sixty_seconds()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, callback) = await kit.AuthorizeAsync();
        var success = Assert.IsType<CompleteLoginResult.Success>(await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback));
        var codes = kit.SiloService<HandoffCodes>();
        var stranger = new TenantRef("another-tenant", "");
        var session = kit.Session(kit.SessionOf(success.HandoffCode)!);

        // Another tenant (or another life of this one) cannot read the code, nor redeem the session's.
        Assert.Null(codes.Read(success.HandoffCode, stranger));
        Assert.Null(codes.Read(success.HandoffCode, kit.Tenant with { Incarnation = "earlier" }));
        Assert.False(await session.CanRedeemHandoffAsync(stranger));
        Assert.Null(await session.RedeemHandoffAsync(stranger));
        Assert.True(await session.CanRedeemHandoffAsync(kit.Tenant));
        Assert.True(await session.CanRedeemHandoffAsync(kit.Tenant)); // asking does not use it up
        Assert.NotNull(await session.RedeemHandoffAsync(kit.Tenant));
        Assert.Null(await session.RedeemHandoffAsync(kit.Tenant));
        Assert.False(await session.CanRedeemHandoffAsync(kit.Tenant));
    }

    [Fact]
    public async Task A_handoff_code_cannot_be_made_or_altered_without_the_key_ring()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, callback) = await kit.AuthorizeAsync();
        var success = Assert.IsType<CompleteLoginResult.Success>(await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback));
        var codes = kit.SiloService<HandoffCodes>();
        var sessionId = kit.SessionOf(success.HandoffCode)!;

        Assert.DoesNotContain(sessionId, success.HandoffCode); // the session id is not readable from the code
        var flipped = success.HandoffCode[..^2] + (success.HandoffCode[^2] == 'A' ? 'B' : 'A') + success.HandoffCode[^1];
        Assert.Null(codes.Read(flipped, kit.Tenant));
        var forged = Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(
            $"{kit.TenantId}\n{kit.Tenant.Incarnation}\n{sessionId}\n{kit.Clock.GetUtcNow().AddMinutes(1).ToUnixTimeMilliseconds()}"));
        Assert.Null(codes.Read(forged, kit.Tenant));
    }

    [Fact]
    public async Task A_handoff_code_expires_after_sixty_seconds()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var (state, callback) = await kit.AuthorizeAsync();
        var success = Assert.IsType<CompleteLoginResult.Success>(await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback));

        Assert.NotNull(kit.SessionOf(success.HandoffCode));
        kit.Clock.Advance(TimeSpan.FromSeconds(60));

        Assert.Null(kit.SessionOf(success.HandoffCode));
    }

    [Fact]
    public async Task The_same_upstream_account_is_one_user_whose_sessions_can_be_listed_and_ended()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var first = await kit.LoginAsync();
        var second = await kit.LoginAsync();
        var view = await kit.Session(first).GetAsync(kit.Tenant);
        var user = kit.Grains.User(view!.User.Id);
        Assert.Equal(view.User.Id, (await kit.Session(second).GetAsync(kit.Tenant))!.User.Id);
        Assert.Equal(kit.Provider.User.Subject, view.User.Subject);

        Assert.Null(await user.ListSessionsAsync(new TenantRef("another-tenant", "")));
        Assert.False(await user.EndAllSessionsAsync(new TenantRef("another-tenant", "")));
        var sessions = await user.ListSessionsAsync(kit.Tenant);
        Assert.Equal(new[] { first, second }.Order(), sessions!.Select(s => s.SessionId).Order());

        Assert.True(await user.EndAllSessionsAsync(kit.Tenant));
        sessions = await user.ListSessionsAsync(kit.Tenant);
        Assert.All(sessions!, s => Assert.Equal(("ended", EndReasons.Revoked), (s.Status, s.EndReason)));
    }
}
