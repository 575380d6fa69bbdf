using Broker.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace Broker.Api.Tests.Hosting;

/// <summary>The settings the API added to the silo: defaults per environment, and one-line errors naming the key.</summary>
public sealed class SiloSettingsTests
{
    private static SiloSettings Load(string environment, params (string Key, string Value)[] values) =>
        SiloSettings.Load(
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build(),
            new Environment(environment));

    [Fact]
    public void Development_needs_nothing_and_turns_the_conveniences_on()
    {
        var settings = Load("Development", ("urls", "http://+:5080;https://+:5081"));

        Assert.True(settings.AdminTokenGenerated);
        Assert.True(settings.Api.AdminToken.Length >= 16);
        Assert.Equal("http://localhost:5080/", settings.Api.PublicBaseUrl.AbsoluteUri);
        Assert.True(settings.Api.DevIdpEnabled && settings.Api.DemoEnabled && settings.AllowHttpUpstreams);
        Assert.Equal(60, settings.Api.RateLimitPermitsPerMinute);
    }

    [Fact]
    public void Production_defaults_are_off_and_the_base_url_gets_a_trailing_slash()
    {
        var settings = Load("Production", ("Broker:AdminToken", "0123456789abcdef"), ("Broker:PublicBaseUrl", "https://id.example.com/broker"));

        Assert.False(settings.AdminTokenGenerated);
        Assert.Equal("https://id.example.com/broker/", settings.Api.PublicBaseUrl.AbsoluteUri);
        Assert.False(settings.Api.DevIdpEnabled || settings.Api.DemoEnabled || settings.AllowHttpUpstreams);
    }

    [Fact]
    public void Previous_admin_tokens_are_a_comma_separated_list()
    {
        var settings = Load("Production", ("Broker:AdminToken", "0123456789abcdef"), ("Broker:PublicBaseUrl", "https://id.example.com"),
            ("Broker:PreviousAdminTokens", " old-token-0123456789 , older-token-0123456789,"));

        Assert.Equal(["old-token-0123456789", "older-token-0123456789"], settings.Api.PreviousAdminTokens);
        Assert.Empty(Load("Production", ("Broker:AdminToken", "0123456789abcdef"), ("Broker:PublicBaseUrl", "https://id.example.com")).Api.PreviousAdminTokens);
    }

    [Theory]
    [InlineData("Host=db.example;Username=broker;Password=pw", 50, true)]
    [InlineData("Host=db.example;Max Auto Prepare=0;No Reset On Close=false", 0, false)]
    [InlineData("host=db.example;maxautoprepare=7", 7, true)]
    public void A_PostgreSQL_connection_prepares_its_statements_and_skips_the_reset_unless_it_says_otherwise(string given, int maxAutoPrepare, bool noResetOnClose)
    {
        var settings = Load("Production", ("Broker:AdminToken", "0123456789abcdef"), ("Broker:PublicBaseUrl", "https://id.example.com"),
            ("Broker:Storage", "Postgres"), ("ConnectionStrings:Broker", given), ("Broker:DataProtection:KeysDirectory", Path.GetTempPath()));

        var used = new Npgsql.NpgsqlConnectionStringBuilder(settings.ConnectionString);
        Assert.Equal(("db.example", maxAutoPrepare, noResetOnClose), (used.Host, used.MaxAutoPrepare, used.NoResetOnClose));
        Assert.Equal(new Npgsql.NpgsqlConnectionStringBuilder(given).Password, used.Password);
    }

    [Theory]
    [InlineData("Broker:AdminToken", null, "is required outside Development")]
    [InlineData("Broker:AdminToken", "short", "at least 16 characters")]
    [InlineData("Broker:PreviousAdminTokens", "old-token-0123456789,short-old", "token 2 must be at least 16 characters")]
    [InlineData("Broker:PreviousAdminTokens", "old token with spaces 0123456789", "token 1 must be at least 16 characters without spaces")]
    [InlineData("Broker:PublicBaseUrl", null, "is required outside Development")]
    [InlineData("Broker:PublicBaseUrl", "ftp://x.example", "absolute http or https URL")]
    [InlineData("Broker:PublicBaseUrl", "https://x.example/?q=1", "without query")]
    [InlineData("Broker:RateLimit:PermitsPerMinute", "-1", "whole number")]
    [InlineData("Broker:RateLimit:PermitsPerMinute", "1.5", "whole number")]
    [InlineData("Broker:AllowHttpUpstreams", "yes", "true or false")]
    [InlineData("Broker:DevIdp:Enabled", "1", "true or false")]
    [InlineData("Broker:Demo:Enabled", "true", "needs Broker:DevIdp:Enabled")]
    public void A_bad_value_names_its_key(string key, string? value, string problem)
    {
        var values = new Dictionary<string, string>
        {
            ["Broker:AdminToken"] = "0123456789abcdef",
            ["Broker:PublicBaseUrl"] = "https://id.example.com",
        };
        if (value is null)
            values.Remove(key);
        else
            values[key] = value;

        var error = Assert.Throws<ConfigurationException>(() => Load("Production", values.Select(v => (v.Key, v.Value)).ToArray()));

        Assert.Equal(key, error.Key);
        Assert.Contains(problem, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        if (key is "Broker:AdminToken" or "Broker:PreviousAdminTokens" && value is not null)
        {
            foreach (var token in value.Split(','))
                Assert.DoesNotContain(token, error.Message);
        }
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "Broker.Silo";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
