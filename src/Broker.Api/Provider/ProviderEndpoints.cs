using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api.Provider;

/// <summary>Each tenant an OpenID Provider at <c>{PublicBaseUrl}/t/{tenant}</c> (docs/design.md §6 "OpenID Provider").</summary>
public static class ProviderEndpoints
{
    public static IEndpointRouteBuilder MapOpenIdProvider(this IEndpointRouteBuilder app)
    {
        // Described by its discovery document (OpenID Connect Discovery 1.0), not by the REST API's OpenAPI document.
        var group = app.MapGroup("/t/{tenant}").WithTags("OpenID Provider").ExcludeFromDescription();
        group.MapProviderDiscovery();
        group.MapProviderAuthorize();
        group.MapProviderToken();
        group.MapProviderResources();
        group.MapProviderEndSession();
        return app;
    }
}
