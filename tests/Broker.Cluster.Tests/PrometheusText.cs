using System.Globalization;
using System.Text.RegularExpressions;

namespace Broker.Cluster.Tests;

/// <summary>One sample line of the Prometheus text format.</summary>
public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A strict reader of the Prometheus text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/): every line must be a
/// <c># HELP name text</c>, a <c># TYPE name counter|gauge|histogram|summary|untyped</c>, a sample
/// <c>name{label="value",...} value</c>, or empty. Anything else is an error naming the line.
/// </summary>
public static partial class PrometheusText
{
    public sealed record Family(string Name, string? Help, string? Type);

    public sealed record Document(IReadOnlyDictionary<string, Family> Families, IReadOnlyList<Sample> Samples)
    {
        public IEnumerable<Sample> Named(string name) => Samples.Where(s => s.Name == name);

        /// <summary>The sum of the samples of <paramref name="name"/> whose labels include <paramref name="labels"/>.</summary>
        public double Sum(string name, params (string Key, string Value)[] labels) =>
            Named(name).Where(s => labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).Sum(s => s.Value);

        /// <summary>A histogram's cumulative buckets (le -> count), summed over its label sets.</summary>
        public SortedDictionary<double, double> Buckets(string histogram)
        {
            var buckets = new SortedDictionary<double, double>();
            foreach (var s in Named(histogram + "_bucket"))
            {
                var le = s.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(s.Labels["le"], CultureInfo.InvariantCulture);
                buckets[le] = buckets.GetValueOrDefault(le) + s.Value;
            }
            return buckets;
        }
    }

    public static Document Parse(string text)
    {
        var families = new Dictionary<string, Family>();
        var samples = new List<Sample>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0)
                continue;
            if (HelpLine().Match(line) is { Success: true } help)
            {
                var name = help.Groups["name"].Value;
                var family = families.GetValueOrDefault(name) ?? new Family(name, null, null);
                if (family.Help is not null)
                    throw new FormatException($"line {i + 1}: a second HELP for {name}");
                families[name] = family with { Help = help.Groups["text"].Value };
            }
            else if (TypeLine().Match(line) is { Success: true } type)
            {
                var name = type.Groups["name"].Value;
                var family = families.GetValueOrDefault(name) ?? new Family(name, null, null);
                if (family.Type is not null)
                    throw new FormatException($"line {i + 1}: a second TYPE for {name}");
                if (samples.Any(s => FamilyOf(s.Name, families) == name))
                    throw new FormatException($"line {i + 1}: TYPE of {name} after its samples");
                families[name] = family with { Type = type.Groups["type"].Value };
            }
            else if (SampleLine().Match(line) is { Success: true } sample)
            {
                var labels = new Dictionary<string, string>();
                foreach (Match label in LabelPair().Matches(sample.Groups["labels"].Value))
                {
                    if (!labels.TryAdd(label.Groups["key"].Value, Unescape(label.Groups["value"].Value)))
                        throw new FormatException($"line {i + 1}: label {label.Groups["key"].Value} twice");
                }
                samples.Add(new Sample(sample.Groups["name"].Value, labels, ParseValue(sample.Groups["value"].Value)));
            }
            else
            {
                throw new FormatException($"line {i + 1} is not Prometheus text format: '{line}'");
            }
        }
        if (!text.EndsWith('\n'))
            throw new FormatException("the exposition does not end with a line feed");
        return new Document(families, samples);
    }

    /// <summary>The family a sample line belongs to: histogram samples carry _bucket, _sum and _count.</summary>
    public static string FamilyOf(string sample, IReadOnlyDictionary<string, Family> families)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sample.EndsWith(suffix, StringComparison.Ordinal) && families.TryGetValue(sample[..^suffix.Length], out var f) && f.Type is "histogram" or "summary")
                return f.Name;
        }
        return sample;
    }

    /// <summary>The q-quantile of cumulative buckets, interpolated linearly inside the bucket the way
    /// PromQL's histogram_quantile does. NaN when empty.</summary>
    public static double Quantile(double q, SortedDictionary<double, double> buckets)
    {
        var total = buckets.Count == 0 ? 0 : buckets.Last().Value;
        if (total == 0)
            return double.NaN;
        var rank = q * total;
        double lowerBound = 0, lowerCount = 0;
        foreach (var (le, count) in buckets)
        {
            if (count >= rank)
            {
                if (double.IsPositiveInfinity(le))
                    return lowerBound; // beyond the last finite bucket: its bound is the best answer
                return lowerBound + (le - lowerBound) * ((rank - lowerCount) / Math.Max(count - lowerCount, 1e-12));
            }
            lowerBound = le;
            lowerCount = count;
        }
        return lowerBound;
    }

    private static double ParseValue(string value) => value switch
    {
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static string Unescape(string value) => value.Replace("\\n", "\n").Replace("\\\"", "\"").Replace("\\\\", "\\");

    [GeneratedRegex(@"^# HELP (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<text>[^\n]*)$")]
    private static partial Regex HelpLine();

    [GeneratedRegex(@"^# TYPE (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<type>counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex TypeLine();

    // name, optional {k="v",...} (escapes \\ \" \n only, optional trailing comma), one space, a Go float, optional timestamp.
    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*,?)?\})? (?<value>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]Inf|\+?Inf|NaN)( -?\d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>([^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
