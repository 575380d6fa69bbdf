using Broker.Grains.Connectors;

namespace Broker.Grains.Tests.Connectors;

public sealed class PkceTests
{
    [Fact]
    public void Challenge_matches_the_rfc_7636_appendix_b_example()
    {
        Assert.Equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Pkce.ComputeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
    }

    [Fact]
    public void A_new_verifier_is_43_unreserved_characters_and_unique()
    {
        var first = Pkce.CreateVerifier();
        Assert.Equal(43, first.Length);
        Assert.True(Pkce.IsValidVerifier(first));
        Assert.NotEqual(first, Pkce.CreateVerifier());
    }

    [Theory]
    [InlineData("short")]
    [InlineData("has space has space has space has space has space")]
    [InlineData("plus+plus+plus+plus+plus+plus+plus+plus+plus+")]
    public void Verifiers_outside_rfc_7636_section_4_1_are_refused(string verifier)
    {
        Assert.False(Pkce.IsValidVerifier(verifier));
        Assert.Throws<ArgumentException>(() => Pkce.ComputeChallenge(verifier));
    }

    [Fact]
    public void A_verifier_of_128_characters_is_the_longest_allowed()
    {
        Assert.True(Pkce.IsValidVerifier(new string('a', 128)));
        Assert.False(Pkce.IsValidVerifier(new string('a', 129)));
    }
}
