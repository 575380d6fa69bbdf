using System.Text.RegularExpressions;

namespace Broker.Deploy.Tests;

/// <summary>No credential in the base, none in prod, only obvious placeholders in dev, and secrets reach the silo
/// only through Secret references.</summary>
public sealed partial class SecretTests
{
    public static TheoryData<string> Renders => new() { "base", "dev", "prod" };

    [Fact]
    public void Base_files_hold_no_secret_literal()
    {
        var baseDirectory = Repo.KustomizationDirectory("base");
        var files = Directory.EnumerateFiles(baseDirectory, "*", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var name = Path.GetRelativePath(Repo.Root, file);
            var text = File.ReadAllText(file);
            Assert.False(SecretKind().IsMatch(text), $"{name} defines a Secret: put examples in an overlay");
            Assert.False(text.Contains("secretGenerator", StringComparison.Ordinal), $"{name} generates a Secret: put examples in an overlay");
            Assert.False(text.Contains("stringData", StringComparison.Ordinal), $"{name} has stringData");
            foreach (var pattern in CredentialPatterns())
            {
                var match = pattern.Match(text);
                Assert.False(match.Success, $"{name} holds what looks like a credential: `{match.Value}`");
            }
        }
    }

    [Fact]
    public void Base_and_prod_render_no_secret_object()
    {
        Assert.Empty(Rendered.Of("base").OfKind("Secret"));
        Assert.Empty(Rendered.Of("prod").OfKind("Secret"));
        // ... and no credential anywhere in what they render.
        foreach (var overlay in new[] { "base", "prod" })
        {
            foreach (var pattern in CredentialPatterns())
                Assert.False(pattern.IsMatch(Rendered.Of(overlay).Yaml), $"{overlay} renders `{pattern.Match(Rendered.Of(overlay).Yaml).Value}`");
        }
    }

    [Fact]
    public void Dev_secrets_are_obvious_dev_only_placeholders()
    {
        var dev = Rendered.Of("dev");
        var secrets = dev.OfKind("Secret").ToList();
        Assert.NotEmpty(secrets);
        foreach (var secret in secrets)
        {
            Assert.False(secret.TryPath("stringData", out _));
            foreach (var (key, value) in secret.Map("data"))
            {
                var text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(value));
                if (Regex.IsMatch(key, "password|token", RegexOptions.IgnoreCase))
                    Assert.StartsWith("dev-only-", text);
                if (Regex.IsMatch(key, @"connection|^key-.*\.xml$"))
                    Assert.Contains(key.EndsWith(".xml", StringComparison.Ordinal) ? "DEV ONLY" : "Password=dev-only-", text);
            }
        }
        // The broker's connection string and the database's password are the same placeholder.
        var silo = Decode(dev, "broker-silo", "connection-string");
        var postgres = Decode(dev, "broker-postgres", "POSTGRES_PASSWORD");
        Assert.Contains($"Password={postgres};", silo);
        Assert.Contains("Host=broker-postgres;", silo);
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Silo_takes_its_credentials_from_secret_references_only(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var settings = rendered.SiloSettings();
        Assert.DoesNotContain(settings.Keys, k => k.Contains("AdminToken", StringComparison.Ordinal) || k.StartsWith("ConnectionStrings", StringComparison.Ordinal));
        foreach (var workload in new[] { rendered.SiloDeployment, rendered.MigrationJob })
        {
            var env = Rendered.SiloContainer(workload).Array("env").ToDictionary(e => e.Str("name")!, e => e);
            foreach (var (name, key, optional) in new[] { ("Broker__AdminToken", "admin-token", false), ("ConnectionStrings__Broker", "connection-string", false), ("Broker__PreviousAdminTokens", "previous-admin-tokens", true) })
            {
                Assert.True(env.TryGetValue(name, out var variable), $"{overlay}: {Json.Describe(workload)} does not set {name}");
                Assert.Null(variable.Str("value"));
                Assert.StartsWith("broker-silo", variable.Str("valueFrom.secretKeyRef.name"));
                Assert.Equal(key, variable.Str("valueFrom.secretKeyRef.key"));
                // Previous admin tokens exist only during a rotation: a Secret without the key must not stop the pod.
                Assert.Equal(optional, variable.Bool("valueFrom.secretKeyRef.optional") ?? false);
            }
        }

        // The key ring: a Secret volume, read-only, where Broker__DataProtection__KeysDirectory points.
        var keysDirectory = settings["Broker__DataProtection__KeysDirectory"];
        Assert.Equal("/var/run/broker/keys", keysDirectory);
        var deployment = rendered.SiloDeployment;
        var mount = Rendered.SiloContainer(deployment).Array("volumeMounts").Single(m => m.Str("mountPath") == keysDirectory);
        Assert.True(mount.Bool("readOnly"));
        var volume = deployment.Array("spec.template.spec.volumes").Single(v => v.Str("name") == mount.Str("name"));
        Assert.StartsWith("broker-dataprotection-keys", volume.Str("secret.secretName"));
    }

    [Fact]
    public void Credential_patterns_catch_what_they_should()
    {
        string[] caught =
        [
            "Host=db;Username=broker;Password=hunter2;Database=broker",
            "  password: s3cret",
            "  POSTGRES_PASSWORD: s3cret",
            "Broker__AdminToken=abcdefghijklmnopqrstuvwxyz",
            "-----BEGIN RSA PRIVATE KEY-----",
            "<masterKey><value>aiaBgh6Yfc0Wi3jmVuNEf4+P/9C7CoZJMQvan0G2xgN4</value>",
            "  admin-token: ZGV2LW9ubHktYWRtaW4tdG9rZW4tbm90LWEtc2VjcmV0",
        ];
        string[] fine =
        [
            "                  key: admin-token",
            "            - name: Broker__AdminToken",
            "          secretName: broker-dataprotection-keys",
            "      - Broker__DataProtection__KeysDirectory=/var/run/broker/keys",
        ];
        foreach (var text in caught)
            Assert.True(CredentialPatterns().Any(p => p.IsMatch(text)), $"not caught: {text}");
        foreach (var text in fine)
            Assert.False(CredentialPatterns().Any(p => p.IsMatch(text)), $"wrongly caught: {text}");
    }

    private static string Decode(Rendered rendered, string secretPrefix, string key)
    {
        var secret = rendered.OfKind("Secret").Single(s => s.Str("metadata.name")!.StartsWith(secretPrefix + "-", StringComparison.Ordinal));
        return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(secret.Map("data")[key]));
    }

    private static IEnumerable<Regex> CredentialPatterns() =>
    [
        // A connection string's password, a YAML or env-file password, an admin token with a value.
        new(@"(?i)\bpassword\s*=\s*[^;\s""']+"),
        new(@"(?i)\b[\w-]*(password|passwd|secret[_-]?key|api[_-]?key)\s*:\s*[^\s{}\[\]#]+"),
        new(@"(?i)\b[\w-]*admin[_-]?token\s*[:=]\s*[^\s{}\[\]#]+"),
        new(@"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        new(@"<masterKey\b|<value>[A-Za-z0-9+/=]{40,}</value>"),
    ];

    [GeneratedRegex(@"(?m)^\s*kind:\s*[""']?Secret[""']?\s*$")]
    private static partial Regex SecretKind();
}
