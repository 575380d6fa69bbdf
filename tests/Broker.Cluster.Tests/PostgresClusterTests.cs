using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Broker.Cluster.Tests;

/// <summary>Three silos over one database, shared by the tests of <see cref="PostgresClusterTests"/>.</summary>
public sealed class ThreeSilos : IAsyncLifetime
{
    public Cluster Cluster { get; private set; } = null!;

    /// <summary>Every session the tests of this class created, so a count can be checked against them.</summary>
    public List<string> Sessions { get; } = [];

    public async Task InitializeAsync() => Cluster = await Cluster.StartAsync(3);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// Any silo serves any route (docs/design.md §2): a login begun on one silo completes on another, its session
/// reads on a third, a state is single use across the cluster, and /metrics is well formed.
/// </summary>
public sealed class PostgresClusterTests(ThreeSilos fixture, ITestOutputHelper output) : IClassFixture<ThreeSilos>
{
    private readonly Cluster cluster = fixture.Cluster;

    [Fact]
    public async Task A_login_begun_on_one_silo_completes_on_another_and_its_session_reads_on_a_third()
    {
        var (a, b, c) = (cluster.Silos[0], cluster.Silos[1], cluster.Silos[2]);

        var callback = await cluster.BeginLoginAsync(login: a, callback: b);
        Assert.Equal(b.BaseAddress.Authority, callback.Authority);
        var code = await cluster.CompleteCallbackAsync(callback);
        var sessionId = await cluster.ExchangeAsync(c, code);
        fixture.Sessions.Add(sessionId);

        foreach (var silo in cluster.Silos)
        {
            var view = await cluster.GetSessionAsync(silo, sessionId);
            Assert.Equal("active", view["status"]!.GetValue<string>());
            Assert.Equal(sessionId, view["sessionId"]!.GetValue<string>());
            Assert.StartsWith("user-", view["user"]!["subject"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        // The provider saw one code exchange for this login, with the public callback URL as redirect_uri.
        var exchange = Assert.Single(cluster.Provider.RequestsTo("/token"), r => r.Form.GetValueOrDefault("grant_type") == "authorization_code"
            && r.Form.GetValueOrDefault("code") == Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callback.Query)["code"]);
        Assert.Equal($"{Cluster.PublicBaseUrl}t/{Cluster.Tenant}/callback", exchange.Form["redirect_uri"]);
    }

    [Fact]
    public async Task A_replayed_state_is_refused_on_every_silo_without_a_redirect()
    {
        var (a, b) = (cluster.Silos[0], cluster.Silos[1]);
        var callback = await cluster.BeginLoginAsync(login: a, callback: b);
        fixture.Sessions.Add(await cluster.ExchangeAsync(a, await cluster.CompleteCallbackAsync(callback)));
        var exchangesBefore = cluster.Provider.RequestsTo("/token").Count;

        foreach (var silo in cluster.Silos)
        {
            using var replay = await cluster.Http.GetAsync(Cluster.Route(callback, silo));
            Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
            Assert.Null(replay.Headers.Location);
            Assert.StartsWith("text/html", replay.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            Assert.DoesNotContain("code=", await replay.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        // Refused before any code exchange: the provider saw nothing more.
        Assert.Equal(exchangesBefore, cluster.Provider.RequestsTo("/token").Count);
    }

    [Fact]
    public async Task A_state_raced_on_three_silos_at_once_completes_exactly_once()
    {
        var callback = await cluster.BeginLoginAsync(cluster.Silos[0], cluster.Silos[0]);

        var answers = await Task.WhenAll(cluster.Silos.Select(async silo =>
        {
            using var response = await cluster.Http.GetAsync(Cluster.Route(callback, silo));
            return (response.StatusCode, response.Headers.Location);
        }));

        var winner = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Redirect);
        Assert.StartsWith(Cluster.ReturnUrl + "?code=", winner.Location!.AbsoluteUri, StringComparison.Ordinal);
        Assert.All(answers.Where(a => a != winner), a => Assert.Equal(HttpStatusCode.BadRequest, a.StatusCode));
        var code = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(winner.Location.Query)["code"].ToString();
        fixture.Sessions.Add(await cluster.ExchangeAsync(cluster.Silos[2], code));
    }

    /// <summary>docs/design.md §6 metric names, each of which must print HELP and TYPE.</summary>
    private static readonly (string Name, string Type)[] DesignFamilies =
    [
        ("broker_logins_total", "counter"),
        ("broker_refreshes_total", "counter"),
        ("broker_refresh_lost_total", "counter"),
        ("broker_reminder_lag_seconds", "histogram"),
        ("broker_sessions_active", "gauge"),
        ("http_server_request_duration_seconds", "histogram"),
    ];

    private async Task<List<PrometheusText.Document>> ScrapeAllAsync()
    {
        var scrapes = new List<PrometheusText.Document>();
        foreach (var silo in cluster.Silos)
            scrapes.Add(PrometheusText.Parse(await cluster.MetricsAsync(silo)));
        return scrapes;
    }

    [Fact]
    public async Task Metrics_are_strict_prometheus_text_and_count_what_the_silos_did()
    {
        var silo = cluster.Silos[0];
        var before = await ScrapeAllAsync();

        const int logins = 3, refreshes = 2;
        for (var i = 0; i < logins; i++)
            fixture.Sessions.Add(await cluster.LoginAsync(silo, silo, silo));
        for (var i = 0; i < refreshes; i++)
        {
            using var refresh = cluster.Api(HttpMethod.Post, new Uri(silo.BaseAddress, $"/api/tenants/{Cluster.Tenant}/sessions/{fixture.Sessions[^1]}/refresh"));
            using var refreshed = await cluster.Http.SendAsync(refresh);
            Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        }

        using var response = await cluster.Http.GetAsync(new Uri(silo.BaseAddress, "/metrics"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var contentType = response.Content.Headers.ContentType!.ToString();
        Assert.Matches(@"^text/plain; version=0\.0\.4(;|$)", contentType);
        var text = await response.Content.ReadAsStringAsync();
        var after = PrometheusText.Parse(text); // throws on any line that is not HELP, TYPE or a sample

        foreach (var (name, type) in DesignFamilies)
        {
            Assert.True(after.Families.TryGetValue(name, out var family), $"no HELP/TYPE for {name}");
            Assert.False(string.IsNullOrWhiteSpace(family!.Help), $"{name} has no HELP text");
            Assert.Equal(type, family.Type);
        }
        // Every sample belongs to a family that declared its TYPE.
        foreach (var sample in after.Samples)
            Assert.True(after.Families.TryGetValue(PrometheusText.FamilyOf(sample.Name, after.Families), out var f) && f.Type is not null, $"sample {sample.Name} has no TYPE");
        // Histograms: cumulative buckets ending in +Inf equal to _count.
        foreach (var histogram in after.Families.Values.Where(f => f.Type == "histogram"))
        {
            var buckets = after.Buckets(histogram.Name);
            if (buckets.Count == 0)
                continue;
            Assert.Equal(buckets.Values.OrderBy(v => v), buckets.Values);
            Assert.Equal(after.Sum(histogram.Name + "_count"), buckets[double.PositiveInfinity]);
        }

        // A silo counts what its grain activations did, and Orleans places those on any silo: the
        // cluster's counters, summed over the silos, moved by what this test did.
        (string, string)[] completed = [("tenant", Cluster.Tenant), ("connection", Cluster.ConnectionId), ("outcome", "completed")];
        var all = await ScrapeAllAsync();
        Assert.Equal(logins, all.Sum(s => s.Sum("broker_logins_total", completed)) - before.Sum(s => s.Sum("broker_logins_total", completed)));
        Assert.True(all.Sum(s => s.Sum("broker_refreshes_total", ("outcome", "ok"))) - before.Sum(s => s.Sum("broker_refreshes_total", ("outcome", "ok"))) >= refreshes);
        Assert.True(after.Sum("http_server_request_duration_seconds_count") > before[0].Sum("http_server_request_duration_seconds_count"));

        var active = 0;
        foreach (var session in fixture.Sessions)
            if ((await cluster.GetSessionAsync(silo, session))["status"]!.GetValue<string>() == "active")
                active++;
        Assert.Equal(fixture.Sessions.Count, active);
        Assert.Equal(active, Assert.Single(after.Named("broker_sessions_active")).Value);

        Report.Line(output, $"/metrics of one silo: {text.Split('\n').Length - 1} lines, {after.Families.Count} families, {after.Samples.Count} samples, sessions_active={active}, Content-Type '{contentType}'");
    }
}
