using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Testing.Runtime;

namespace Broker.Grains.Tests.Grains;

public sealed class TenantTests
{
    [Fact]
    public async Task Api_keys_are_stored_as_hashes_and_old_keys_stay_valid_until_the_tenant_is_deleted()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var tenantId = "acme-" + Guid.NewGuid().ToString("N")[..8];
        var tenant = kit.Grains.Tenant(tenantId);
        var created = await tenant.CreateAsync("Acme", ["https://acme.example/cb"]);
        var second = (await tenant.AddApiKeyAsync())?.ApiKey;

        Assert.True(created.Created);
        Assert.True(await tenant.CheckApiKeyAsync(created.ApiKey!));
        Assert.True(await tenant.CheckApiKeyAsync(second!));
        Assert.False(await tenant.CheckApiKeyAsync(created.ApiKey! + "x"));
        Assert.False((await tenant.CreateAsync("Again", [])).Created);
        var stored = (await kit.StoredJsonAsync<TenantState>("tenant", "tenant", "t:" + tenantId))!;
        Assert.DoesNotContain(created.ApiKey!, stored);
        // Stored: the key's id (its middle part) and a hash; never the key or its secret part.
        Assert.Contains(created.ApiKey!.Split('.')[1], stored);
        Assert.DoesNotContain(created.ApiKey!.Split('.')[2], stored);

        Assert.True(await tenant.DeleteAsync());
        Assert.Equal(TenantStatus.Deleted, await tenant.GetStatusAsync());
        Assert.False(await tenant.CheckApiKeyAsync(created.ApiKey!));
        Assert.Null(await tenant.GetAsync());
        Assert.Null(await tenant.AddApiKeyAsync());
        Assert.Equal(TenantStatus.Unknown, await kit.Grains.Tenant("never-made-" + Guid.NewGuid().ToString("N")[..8]).GetStatusAsync());
    }

    [Fact]
    public async Task Deleting_a_tenant_ends_its_sessions_as_revoked_and_revokes_their_tokens_upstream()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var sessions = new[] { await kit.LoginAsync(), await kit.LoginAsync() };
        var lifeBefore = kit.Tenant;
        var tokens = new List<string>();
        foreach (var session in sessions)
            tokens.Add(Assert.IsType<TokenOutcome.Token>(await kit.Session(session).GetTokenAsync(lifeBefore)).AccessToken);
        Assert.All(tokens, token => Assert.True(kit.Provider.IsActive(token)));

        Assert.True(await kit.Grains.Tenant(kit.TenantId).DeleteAsync());
        // The deleted tenant's clean-up runs on a reminder due now; it forgets each session once it has ended it.
        await kit.AdvanceUntilAsync(TimeSpan.FromSeconds(1),
            async () => (await kit.Index.ListAsync(lifeBefore, 10)).Count == 0, "the clean-up ends every session of the deleted tenant");

        foreach (var session in sessions)
        {
            var view = await kit.Session(session).GetAsync(lifeBefore);
            Assert.Equal(("ended", EndReasons.Revoked), (view!.Status, view.EndReason));
            Assert.Equal(new TokenOutcome.Ended(EndReasons.Revoked), await kit.Session(session).GetTokenAsync(lifeBefore));
        }
        Assert.All(tokens, token => Assert.False(kit.Provider.IsActive(token)));

        // Created again, the tenant is a new life: the old sessions are not its sessions.
        var tenant = kit.Grains.Tenant(kit.TenantId);
        await tenant.CreateAsync("Again", []);
        var lifeAfter = (await tenant.GetAsync())!.Ref;
        Assert.NotEqual(lifeBefore, lifeAfter);
        Assert.Null(await kit.Session(sessions[0]).GetAsync(lifeAfter));
    }

    [Fact]
    public async Task A_deleted_api_key_stops_working_and_the_others_keep_working()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var tenant = kit.Grains.Tenant("acme-" + Guid.NewGuid().ToString("N")[..8]);
        var first = (await tenant.CreateAsync("Acme", [])).ApiKey!;
        var second = (await tenant.AddApiKeyAsync())!.ApiKey!;
        var (firstId, secondId) = (first.Split('.')[1], second.Split('.')[1]);
        Assert.Equal([firstId, secondId], (await tenant.ListApiKeysAsync())!.Select(k => k.Id));

        Assert.True(await tenant.DeleteApiKeyAsync(firstId));
        Assert.False(await tenant.CheckApiKeyAsync(first));
        Assert.True(await tenant.CheckApiKeyAsync(second));
        Assert.Equal([secondId], (await tenant.ListApiKeysAsync())!.Select(k => k.Id));
        Assert.False(await tenant.DeleteApiKeyAsync(firstId));

        // A key whose secret part is swapped for another key's is no key, even with a listed id.
        Assert.False(await tenant.CheckApiKeyAsync($"{first.Split('.')[0]}.{secondId}.{first.Split('.')[2]}"));

        Assert.True(await tenant.DeleteAsync());
        Assert.Null(await tenant.ListApiKeysAsync());
        Assert.False(await tenant.DeleteApiKeyAsync(secondId));
    }

    [Fact]
    public async Task Client_secrets_are_encrypted_in_the_stored_state_and_come_back_decrypted()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var tenant = kit.Grains.Tenant(kit.TenantId);
        const string secret = "very-secret-client-secret-value";

        Assert.Equal(PutOutcome.Created, await tenant.PutConnectionAsync(kit.Provider.OidcConnection() with { Id = "second", ClientSecret = secret }));
        Assert.Equal(PutOutcome.Replaced, await tenant.PutConnectionAsync(kit.Provider.OidcConnection() with { Id = "second", ClientSecret = secret }));

        var stored = (await kit.StoredJsonAsync<TenantState>("tenant", "tenant", "t:" + kit.TenantId))!;
        Assert.DoesNotContain(secret, stored);
        Assert.DoesNotContain(kit.Provider.ClientSecret, stored);
        Assert.Equal(secret, (await tenant.GetConnectionAsync("second"))!.ClientSecret);
        Assert.Equal(["oidc", "second"], (await tenant.ListConnectionsAsync()).Select(c => c.Id));
    }

    [Fact]
    public async Task A_patch_replaces_what_it_names_and_keeps_the_rest()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var tenant = kit.Grains.Tenant(kit.TenantId);

        var view = await tenant.UpdateAsync(new TenantPatch(null, null, RefreshLeadSeconds: 30, LifetimeSeconds: null));
        Assert.Equal(new SessionPolicy(30, 86_400), view!.SessionPolicy);
        Assert.Equal(["https://app.example/done"], view.ReturnUrls);

        view = await tenant.UpdateAsync(new TenantPatch("Renamed", ["https://b.example/x"], null, null));
        Assert.Equal(("Renamed", new SessionPolicy(30, 86_400)), (view!.DisplayName, view.SessionPolicy));
        Assert.Equal(["https://b.example/x"], view.ReturnUrls);
    }
}
