using Microsoft.Extensions.DependencyInjection;

namespace Broker.Grains.Runtime;

/// <summary>A grain type as registered: its persisted name, the interface callers use, the class behind
/// it and how to construct that class (services from DI, plus the <see cref="GrainContext"/> if it asks).</summary>
public sealed record GrainType(string Name, Type Interface, Type Class, Func<IServiceProvider, GrainContext, object> Create);

/// <summary>The grain types this silo hosts, looked up by interface (calls) and by name (reminders).</summary>
public sealed class GrainRegistry
{
    private readonly Dictionary<Type, GrainType> _byInterface = new();
    private readonly Dictionary<string, GrainType> _byName = new(StringComparer.Ordinal);

    public void Add<TInterface, TGrain>(string name) where TGrain : class, TInterface
    {
        if (!typeof(TInterface).IsInterface)
            throw new ArgumentException($"{typeof(TInterface).Name} is not an interface.");
        // The proxy turns every call into a turn that the caller awaits; a synchronous method would
        // have to block, so grain interfaces only hold Task-returning methods.
        var bad = typeof(TInterface).GetMethods().Concat(typeof(TInterface).GetInterfaces().SelectMany(i => i.GetMethods()))
            .FirstOrDefault(m => !IsTask(m.ReturnType));
        if (bad is not null)
            throw new ArgumentException($"{typeof(TInterface).Name}.{bad.Name} must return Task or Task<T>.");
        var takesContext = typeof(TGrain).GetConstructors()
            .Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(GrainContext)));
        var factory = ActivatorUtilities.CreateFactory(typeof(TGrain), takesContext ? [typeof(GrainContext)] : []);
        var type = new GrainType(name, typeof(TInterface), typeof(TGrain),
            (services, context) => factory(services, takesContext ? [context] : null));
        if (!_byName.TryAdd(name, type) || !_byInterface.TryAdd(typeof(TInterface), type))
            throw new ArgumentException($"Grain type '{name}' or interface {typeof(TInterface).Name} is registered twice.");
    }

    public GrainType ByInterface(Type grainInterface) =>
        _byInterface.TryGetValue(grainInterface, out var type)
            ? type
            : throw new InvalidOperationException($"No grain is registered for {grainInterface.Name}.");

    public GrainType? ByName(string name) => _byName.GetValueOrDefault(name);

    private static bool IsTask(Type t) =>
        t == typeof(Task) || (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Task<>));
}
