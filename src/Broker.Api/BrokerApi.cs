using Broker.Api.Provider;
using Broker.Api.Demo;
using Broker.Api.DevIdp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Broker.Api;

/// <summary>Registers and maps the HTTP front end; the silo's composition root calls these three.</summary>
public static class BrokerApi
{
    public static IServiceCollection AddBrokerApi(this IServiceCollection services, BrokerApiOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<RateLimits>();
        services.ConfigureHttpJsonOptions(o => ApiJson.ConfigureResponses(o.SerializerOptions));
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions.TryAdd("traceId", Problems.TraceId(c.HttpContext)));
        // The document names the public URL, not whatever Host header a request carried.
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Servers = [new Microsoft.OpenApi.OpenApiServer { Url = options.PublicBaseUrl.AbsoluteUri.TrimEnd('/') }];
            return Task.CompletedTask;
        }).DescribeBrokerApi());
        if (options.DevIdpEnabled)
            services.AddSingleton(Options.Create(new DevIdpOptions { Enabled = true, BrokerBaseUrl = options.PublicBaseUrl }));
        if (options.DemoEnabled)
        {
            services.AddSingleton<DemoTenant>();
            services.AddHostedService(sp => sp.GetRequiredService<DemoTenant>());
            services.AddHttpClient(DemoEndpoints.HttpClientName, c => c.BaseAddress = options.PublicBaseUrl);
        }
        return services;
    }

    /// <summary>Errors first: an exception anywhere becomes a 4xx or 500 with a trace id, never a stack
    /// trace; then the checks of the raw request; then routing, which they must precede.</summary>
    public static WebApplication UseBrokerApi(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = ErrorResponses.WriteAsync,
            // The handler logs what a client did wrong itself, below Error.
            SuppressDiagnosticsCallback = context => ErrorResponses.IsClientFault(context.Exception),
        });
        app.UseStatusCodePages(ErrorResponses.WriteStatusAsync);
        app.UseRequestGuards();
        app.UseRouting();
        return app;
    }

    /// <summary>The readable reference at /docs over the OpenAPI document. It needs nothing from another site
    /// (its script is served from the package; no web fonts, no AI chat, no telemetry), so it works where the
    /// broker runs without internet access, and every tag is open so a reader sees every route at once.</summary>
    private static void ConfigureApiReference(ScalarOptions o)
    {
        o.Title = "Broker API";
        o.OpenApiRoutePattern = "/openapi/{documentName}.json";
        o.DefaultFonts = false;
        o.Telemetry = false;
        o.DefaultOpenAllTags = true;
        o.ShowDeveloperTools = DeveloperToolsVisibility.Never;
        o.Agent = new ScalarAgentOptions { Disabled = true };
    }

    public static WebApplication MapBrokerApi(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<BrokerApiOptions>();
        var routes = app.MapGroup("").AnswerHeadWhereGet().RetryOnceWhenASiloIsGone().WithApiDescriptions();
        routes.MapOpenApi();
        routes.MapScalarApiReference("/docs", ConfigureApiReference).ExcludeFromDescription();
        routes.MapLandingPage(options);
        routes.MapAdminEndpoints();
        routes.MapTenantEndpoints();
        routes.MapConnectionEndpoints();
        routes.MapSessionEndpoints();
        routes.MapUpstreamEndpoints();
        routes.MapEventEndpoints();
        routes.MapUserEndpoints();
        routes.MapLinkEndpoints();
        routes.MapClientEndpoints();
        routes.MapLoginEndpoints();
        routes.MapOpenIdProvider();
        if (options.DevIdpEnabled)
            routes.MapDevIdp();
        if (options.DemoEnabled)
            routes.MapDemoEndpoints();
        return app;
    }
}
