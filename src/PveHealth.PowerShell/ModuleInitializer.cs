using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Management.Automation;

namespace PveHealth.PowerShell;

/// <summary>
/// Loads PveHealth.Engine and every third-party assembly (SSH.NET, Minio, YamlDotNet...) from the
/// module's dependencies/ folder into a load context of its own, so another module that brings a
/// different SSH.NET cannot clash with ours (Microsoft's "resolving PowerShell module assembly
/// dependency conflicts", the PSResourceGet pattern). The output types (PveHealth.Model.dll: CheckResult,
/// CheckStatus, Guest, GuestKind; no dependency but the framework) ship beside this DLL and live in the
/// DEFAULT context, so scripts can name them; the engine resolves them from there, so there is one
/// CheckStatus type, not two. Cleanup mirrors init: OnRemove unhooks the resolver OnImport hooked.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    internal const string EngineAssembly = "PveHealth.Engine";
    internal const string ModelAssembly = "PveHealth.Model";

    private static int s_registered;

    /// <summary>Registered as early as possible: the first touch of this assembly.</summary>
#pragma warning disable CA2255 // deliberate: the resolver must exist before any engine type is touched
    [ModuleInitializer]
    internal static void Register()
#pragma warning restore CA2255
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += Resolve;
        }
    }

    /// <summary>Unhooks the resolver (Remove-Module). Assemblies already loaded stay loaded: .NET cannot unload them.</summary>
    internal static void Unregister()
    {
        if (Interlocked.Exchange(ref s_registered, 0) == 1)
        {
            AssemblyLoadContext.Default.Resolving -= Resolve;
        }
    }

    /// <summary>True while the resolver is hooked (tests read it through reflection).</summary>
    internal static bool IsRegistered => Volatile.Read(ref s_registered) == 1;

    /// <inheritdoc />
    public void OnImport() => Register();

    /// <inheritdoc />
    public void OnRemove(PSModuleInfo psModuleInfo) => Unregister();

    internal static string ModuleFolder { get; } =
        Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? AppContext.BaseDirectory;

    internal static string DependencyFolder { get; } = Path.Combine(ModuleFolder, "dependencies");

    private static readonly Lazy<DependencyLoadContext> s_context = new(() => new DependencyLoadContext(DependencyFolder));

    private static Assembly? Resolve(AssemblyLoadContext defaultContext, AssemblyName name)
    {
        if (string.Equals(name.Name, EngineAssembly, StringComparison.Ordinal)) return s_context.Value.LoadFromAssemblyName(name);
        if (string.Equals(name.Name, ModelAssembly, StringComparison.Ordinal))
        {
            var path = Path.Combine(ModuleFolder, ModelAssembly + ".dll");
            return File.Exists(path) ? defaultContext.LoadFromAssemblyPath(path) : null;
        }
        return null;
    }
}

/// <summary>
/// The module's own load context: assemblies found in dependencies/ load here; the rest (the framework, PowerShell,
/// and PveHealth.Model, deliberately never in dependencies/) come from the default context.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private readonly string _folder;

    public DependencyLoadContext(string folder) : base("PveHealth", isCollectible: false) => _folder = folder;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // null = "ask the default context": the output types must be the default context's, the ones scripts name.
        if (string.Equals(assemblyName.Name, ModuleInitializer.ModelAssembly, StringComparison.Ordinal)) return null;
        var path = Path.Combine(_folder, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = Path.Combine(_folder, unmanagedDllName);
        return File.Exists(path) ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}

// Rule for this assembly: PowerShell reflects over the exported cmdlet types before OnImport runs, so
// no public type here may need PveHealth.Engine to be *loaded*: no engine base types, no engine value
// types (enums) as fields or parameters, and OutputType by name. Reference-typed members are fine.
// PveHealth.Model (CheckResult, CheckStatus, Guest, GuestKind) is exempt: it sits beside this DLL in the
// default context (the manifest's RequiredAssemblies), loaded before any cmdlet type is reflected.
