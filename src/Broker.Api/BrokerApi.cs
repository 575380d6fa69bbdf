using Broker.Api.Demo;
using Broker.Api.DevIdp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
        services.AddOpenApi();
        if (options.DevIdpEnabled)
            services.AddSingleton(Options.Create(new DevIdpOptions { Enabled = true }));
        if (options.DemoEnabled)
        {
            services.AddSingleton<DemoTenant>();
            services.AddHostedService(sp => sp.GetRequiredService<DemoTenant>());
            services.AddHttpClient(DemoEndpoints.HttpClientName, c => c.BaseAddress = options.PublicBaseUrl);
        }
        return services;
    }

    /// <summary>Errors first: an exception anywhere becomes a 500 with a trace id, never a stack trace.</summary>
    public static WebApplication UseBrokerApi(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = ErrorResponses.WriteAsync });
        app.UseStatusCodePages();
        return app;
    }

    public static WebApplication MapBrokerApi(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<BrokerApiOptions>();
        app.MapOpenApi();
        app.MapAdminEndpoints();
        app.MapTenantEndpoints();
        app.MapConnectionEndpoints();
        app.MapSessionEndpoints();
        app.MapUpstreamEndpoints();
        app.MapLoginEndpoints();
        if (options.DevIdpEnabled)
            app.MapDevIdp();
        if (options.DemoEnabled)
            app.MapDemoEndpoints();
        return app;
    }
}
