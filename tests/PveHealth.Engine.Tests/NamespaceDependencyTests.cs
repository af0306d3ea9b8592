using System.Reflection;
using System.Reflection.Emit;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// The engine's layers depend downwards only, read from the compiled assembly (signatures, fields, base types and
/// every type or member a method body names, lambdas and async state machines included): no import loops.
/// </summary>
public class NamespaceDependencyTests
{
    /// <summary>Lowest first. A namespace may use the ones before it, never the ones after it.</summary>
    internal static readonly string[] Layers =
    [
        "PveHealth",               // Wildcard and other shared helpers
        "PveHealth.Model",         // what checks report: its own assembly, PveHealth.Model.dll (default load context)
        "PveHealth.Configuration", // the configuration file and the environment scope clients see
        "PveHealth.Clients",       // Proxmox API, HTTP, S3, SSH known_hosts
        "PveHealth.Inventory",     // where the guests come from
        "PveHealth.Execution",     // units, reporter (the deadline rule), environment context, runner
        "PveHealth.Checks",        // the check classes and the catalog
        "PveHealth.Exclusions",    // rules naming the catalog's checks
        "PveHealth.Planning",      // configuration + request → units
        "PveHealth.Metrics",       // results → Prometheus text
    ];

    [Fact]
    public void Every_engine_namespace_is_a_known_layer()
    {
        var unknown = EngineTypes().Select(t => Layer(t.Namespace)).Where(l => l < 0).ToList();
        Assert.Empty(unknown);
    }

    [Fact]
    public void Layers_depend_only_on_lower_layers()
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in EngineTypes())
        {
            var from = Layer(type.Namespace);
            foreach (var used in Uses(type))
            {
                if (used.Assembly != type.Assembly) continue;
                var to = Layer(used.Namespace);
                if (to > from) violations.Add($"{Top(type).FullName} ({Layers[from]}) uses {used.FullName} ({Layers[to]})");
            }
        }
        Assert.True(violations.Count == 0, "upward dependencies:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_output_types_live_in_an_assembly_with_no_dependency_but_the_framework()
    {
        // Loaded into the default load context so scripts can name them; a third-party reference here would drag that
        // dependency into the default context and break the isolation of the module's own context.
        var model = typeof(PveHealth.Model.CheckResult).Assembly;
        Assert.Equal("PveHealth.Model", model.GetName().Name);
        Assert.NotEqual(typeof(PveHealth.Checks.CheckCatalog).Assembly, model);
        var references = model.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.All(references, name => Assert.True(name.StartsWith("System", StringComparison.Ordinal) || name is "netstandard" or "mscorlib", name));
        Assert.All(model.GetTypes().Where(t => t.IsPublic), t => Assert.Equal("PveHealth.Model", t.Namespace));
        Assert.Contains(typeof(PveHealth.Model.CheckStatus), model.GetTypes());
        Assert.Contains(typeof(PveHealth.Model.Guest), model.GetTypes());
    }

    [Fact]
    public void The_scan_sees_dependencies_inside_method_bodies()
    {
        // CheckCatalog.Validate throws a ConfigException: a Checks → Configuration use only a method body shows.
        var uses = Uses(typeof(PveHealth.Checks.CheckCatalog)).Select(t => t.FullName).ToList();
        Assert.Contains("PveHealth.Configuration.ConfigException", uses);
        Assert.Contains("PveHealth.Checks.Minio.MinioCheckProvider", uses);
    }

    private static IEnumerable<Type> EngineTypes()
        => typeof(PveHealth.Checks.CheckCatalog).Assembly.GetTypes()
            .Where(t => t.Namespace is not null && t.Namespace.StartsWith("PveHealth", StringComparison.Ordinal));

    /// <summary>The layer of a namespace: the longest listed prefix ("PveHealth.Checks.Minio" is Checks).</summary>
    private static int Layer(string? ns)
    {
        var best = -1;
        for (var i = 0; i < Layers.Length; i++)
        {
            if (ns == Layers[i] || (ns is not null && ns.StartsWith(Layers[i] + ".", StringComparison.Ordinal) && i > 0)) best = i;
        }
        return best;
    }

    private static Type Top(Type t) => t.DeclaringType is null ? t : Top(t.DeclaringType);

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    internal static IReadOnlySet<Type> Uses(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null) return;
            if (t.HasElementType) { Add(t.GetElementType()); return; }
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
            {
                foreach (var a in t.GetGenericArguments()) Add(a);
                Add(t.GetGenericTypeDefinition());
                return;
            }
            if (t.IsGenericParameter) return;
            found.Add(t);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(All)) Add(f.FieldType);
        foreach (var p in type.GetProperties(All)) Add(p.PropertyType);
        foreach (var m in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (m is MethodInfo mi) Add(mi.ReturnType);
            foreach (var p in m.GetParameters()) Add(p.ParameterType);
            ScanBody(m, Add);
        }
        return found;
    }

    private static void ScanBody(MethodBase method, Action<Type?> add)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) return;
        var module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            OpCode op;
            if (il[i] == 0xFE) { op = OpCodesByValue[(short)(0xFE00 | il[i + 1])]; i += 2; }
            else { op = OpCodesByValue[il[i]]; i += 1; }
            switch (op.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    var token = BitConverter.ToInt32(il, i);
                    i += 4;
                    try
                    {
                        var member = module.ResolveMember(token, typeArgs, methodArgs);
                        switch (member)
                        {
                            case Type t: add(t); break;
                            case FieldInfo f: add(f.DeclaringType); add(f.FieldType); break;
                            case MethodBase mb:
                                add(mb.DeclaringType);
                                if (mb is MethodInfo r) add(r.ReturnType);
                                if (mb.IsGenericMethod) foreach (var a in mb.GetGenericArguments()) add(a);
                                break;
                        }
                    }
                    catch (ArgumentException) { /* a token of a generic context the scan cannot bind: skipped */ }
                    break;
                default: i += 4; break;
            }
        }
    }
}
