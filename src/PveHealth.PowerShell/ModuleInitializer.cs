using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Management.Automation;

namespace PveHealth.PowerShell;

/// <summary>
/// Loads PveHealth.Engine and every third-party assembly (SSH.NET, Minio, YamlDotNet...) from the
/// module's dependencies/ folder into a load context of its own, so another module that brings a
/// different SSH.NET cannot clash with ours (Microsoft's "resolving PowerShell module assembly
/// dependency conflicts", the PSResourceGet pattern). This assembly references only the engine;
/// the default context asks us for it, and everything the engine needs resolves inside our context.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    private static int s_registered;

    /// <summary>Registered as early as possible: the first touch of this assembly.</summary>
#pragma warning disable CA2255 // deliberate: the resolver must exist before any engine type is touched
    [ModuleInitializer]
    internal static void Register()
#pragma warning restore CA2255
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += ResolveEngine;
        }
    }

    /// <inheritdoc />
    public void OnImport() => Register();

    internal static string DependencyFolder { get; } = Path.Combine(
        Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? AppContext.BaseDirectory, "dependencies");

    private static readonly Lazy<DependencyLoadContext> s_context = new(() => new DependencyLoadContext(DependencyFolder));

    private static Assembly? ResolveEngine(AssemblyLoadContext defaultContext, AssemblyName name)
    {
        if (!string.Equals(name.Name, "PveHealth.Engine", StringComparison.Ordinal)) return null;
        return s_context.Value.LoadFromAssemblyName(name);
    }
}

/// <summary>The module's own load context: assemblies found in dependencies/ load here, the rest (the framework, PowerShell) from the default context.</summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private readonly string _folder;

    public DependencyLoadContext(string folder) : base("PveHealth", isCollectible: false) => _folder = folder;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
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
