using System.Reflection;

namespace Broker.Grains.Runtime;

/// <summary>Hands out references to grains by interface and key, as Orleans' IGrainFactory does. A
/// reference is cheap; every call through it is a turn on the grain's activation in this silo.</summary>
public sealed class GrainFactory(Catalog catalog, GrainRegistry registry)
{
    public TGrainInterface GetGrain<TGrainInterface>(string key) where TGrainInterface : class
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var type = registry.ByInterface(typeof(TGrainInterface));
        var proxy = DispatchProxy.Create<TGrainInterface, GrainReference>();
        ((GrainReference)(object)proxy).Bind(catalog, new GrainId(type.Name, key));
        return proxy;
    }
}
