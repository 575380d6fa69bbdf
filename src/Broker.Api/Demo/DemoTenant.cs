using Broker.Grains;
using Broker.Grains.Clients;
using Broker.Grains.Connectors;
using Broker.Grains.Tenants;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Api.Demo;

/// <summary>
/// The <c>demo</c> tenant the demo app plays: created at start (or given a fresh API key when it
/// survives from an earlier run on PostgreSQL), with the return URL <c>{PublicBaseUrl}/demo/</c>, a
/// <c>dev</c> connection, and the app client <c>demo</c> of its OpenID Provider. The key and the client's
/// secret live only in this process's memory, as a real app's back end would keep them.
/// </summary>
public sealed class DemoTenant(IGrainFactory grains, BrokerApiOptions options, ILogger<DemoTenant> logger) : IHostedService
{
    public const string TenantId = "demo";
    public const string ClientId = "demo";
    private readonly SemaphoreSlim gate = new(1, 1);
    private DemoCredentials? credentials;

    public string ReturnUrl => options.Url("demo/");

    /// <summary>Where the OpenID Provider sends the demo app's codes.</summary>
    public string RedirectUri => options.Url("demo/callback");

    /// <summary>The demo tenant's API key and app client secret, seeding first when that has not happened yet (or failed at start).</summary>
    public async Task<DemoCredentials> CredentialsAsync(CancellationToken cancellationToken)
    {
        if (credentials is not null)
            return credentials;
        await gate.WaitAsync(cancellationToken);
        try
        {
            return credentials ??= await SeedAsync();
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<string> ApiKeyAsync(CancellationToken cancellationToken) => (await CredentialsAsync(cancellationToken)).ApiKey;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Where to open it is said once, at the end of the start-up (the silo's start-up notes).
            await ApiKeyAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The silo still serves; the demo page tries again on its first request.
            logger.LogError(e, "Demo: seeding the demo tenant failed; {DemoUrl} will retry", ReturnUrl);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<DemoCredentials> SeedAsync()
    {
        var tenant = grains.Tenant(TenantId);
        string? key;
        if (await tenant.GetStatusAsync() == TenantStatus.Active)
        {
            // Left from an earlier run (PostgreSQL): its keys were held by that run and are gone, so
            // they are retired (a tenant holds at most ten) and one is made for this run.
            await tenant.UpdateAsync(new TenantPatch("Demo app", [ReturnUrl], null, null));
            foreach (var old in await tenant.ListApiKeysAsync() ?? [])
                await tenant.DeleteApiKeyAsync(old.Id);
            key = (await tenant.AddApiKeyAsync())?.ApiKey;
        }
        else
        {
            key = (await tenant.CreateAsync("Demo app", [ReturnUrl])).ApiKey;
        }
        await tenant.PutConnectionAsync(new ConnectionConfig { Id = "dev", Type = ConnectionTypes.Dev, ClientId = "demo", ClientSecret = "demo-secret" });
        // The demo app signs in through the tenant's OpenID Provider; a secret of an earlier run is replaced.
        await tenant.PutClientAsync(new AppClient(ClientId, "Demo app", [RedirectUri], [ReturnUrl], AppClientAuthMethods.Post, [], OfflineAccess: false));
        var secret = (await tenant.RotateClientSecretAsync(ClientId)).ClientSecret;
        return key is not null && secret is not null
            ? new DemoCredentials(key, secret)
            : throw new InvalidOperationException("The demo tenant could not be created.");
    }
}

public sealed record DemoCredentials(string ApiKey, string ClientSecret);
