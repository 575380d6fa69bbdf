using Broker.Api;
using Broker.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
SiloSettings settings;
try
{
    settings = SiloSettings.Load(builder.Configuration, builder.Environment);
}
catch (ConfigurationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

builder.AddBrokerSilo(settings);
var app = builder.Build();
if (args is ["migrate", ..])
    return await app.MigrateAsync(settings);
if (PortsInUse.Describe(app.Configuration, settings) is { } taken)
{
    Console.Error.WriteLine(taken);
    return 2;
}

app.UseBrokerApi();
app.MapOpsEndpoints();
app.MapBrokerApi();
app.LogStartupNotes(settings);
await app.RunAsync();
return 0;

public partial class Program;
