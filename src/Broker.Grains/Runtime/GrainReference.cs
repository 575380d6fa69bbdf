using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using System.Runtime.ExceptionServices;

namespace Broker.Grains.Runtime;

/// <summary>The proxy behind a grain interface: each method call becomes a turn on the activation.
/// Public only because <see cref="DispatchProxy"/> requires it; create references with <see cref="GrainFactory"/>.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public class GrainReference : DispatchProxy
{
    private static readonly ConcurrentDictionary<MethodInfo, Func<Catalog, GrainId, MethodInfo, object?[]?, object>> Invokers = new();
    private static readonly MethodInfo InvokeTypedMethod =
        typeof(GrainReference).GetMethod(nameof(InvokeTyped), BindingFlags.NonPublic | BindingFlags.Static)!;

    private Catalog _catalog = null!;

    public GrainId GrainId { get; private set; }

    internal void Bind(Catalog catalog, GrainId id)
    {
        _catalog = catalog;
        GrainId = id;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        return Invokers.GetOrAdd(targetMethod, CreateInvoker)(_catalog, GrainId, targetMethod, args);
    }

    private static Func<Catalog, GrainId, MethodInfo, object?[]?, object> CreateInvoker(MethodInfo method)
    {
        if (method.ReturnType == typeof(Task))
            return (catalog, id, m, args) => catalog.InvokeAsync<object?>(id, async grain =>
            {
                await (Task)Call(m, grain, args);
                return null;
            });
        var typed = InvokeTypedMethod.MakeGenericMethod(method.ReturnType.GetGenericArguments()[0]);
        return typed.CreateDelegate<Func<Catalog, GrainId, MethodInfo, object?[]?, object>>();
    }

    private static object InvokeTyped<T>(Catalog catalog, GrainId id, MethodInfo method, object?[]? args) =>
        catalog.InvokeAsync(id, grain => (Task<T>)Call(method, grain, args));

    private static object Call(MethodInfo method, object grain, object?[]? args)
    {
        try
        {
            return method.Invoke(grain, args)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
