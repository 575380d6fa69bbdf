using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

/// <summary>Every GET route answers HEAD (RFC 9110 §9.3.2); the server sends the headers and drops the body.</summary>
public static class HeadRequests
{
    public static TBuilder AnswerHeadWhereGet<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            // Routing reads the last method metadata an endpoint carries.
            var methods = endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault()?.HttpMethods;
            if (methods is not null && methods.Contains(HttpMethods.Get) && !methods.Contains(HttpMethods.Head))
                endpoint.Metadata.Add(new HttpMethodMetadata([.. methods, HttpMethods.Head]));
        });
        return builder;
    }
}
