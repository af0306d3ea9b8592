using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using PveHealth.Configuration;
using PveHealth.Model;

namespace PveHealth.Inventory;

/// <summary>
/// Guests from running <c>terraform output -json</c> in a Terraform working directory: the configured
/// executable, else <c>terraform</c> from PATH, else <c>tofu</c>. The process is started directly (no shell),
/// bounded by a timeout that kills its whole process tree. Its output is parsed, never printed (outputs may be
/// sensitive); on failure only the exit code and a summary of stderr are reported.
/// Not local: terraform reads the state from its backend, so the dry run does not run it.
/// </summary>
public sealed class TerraformCommandSource : IInventorySource
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private readonly string _directory;
    private readonly string _environment;
    private readonly InventoryConfig? _options;
    private readonly string? _executable;
    private readonly TimeSpan _timeout;

    public TerraformCommandSource(string directory, string environment, InventoryConfig? options)
    {
        _directory = directory;
        _environment = environment;
        _options = options;
        _executable = string.IsNullOrWhiteSpace(options?.Executable) ? null : options!.Executable;
        _timeout = options?.TimeoutSec is double s && s > 0 ? TimeSpan.FromSeconds(s) : DefaultTimeout;
    }

    public string Description => $"terraform:{_directory}";
    public bool IsLocal => false;

    /// <summary>The executable to run: the configured one (a path or a name looked up on PATH), else terraform, else tofu.</summary>
    public static string ResolveExecutable(string? configured)
    {
        if (configured is not null)
        {
            if (configured.Contains('/')) return File.Exists(configured) ? configured : throw NotFound($"{configured} does not exist");
            return FindOnPath(configured) ?? throw NotFound($"'{configured}' is not on PATH");
        }
        return FindOnPath("terraform") ?? FindOnPath("tofu") ?? throw NotFound("neither terraform nor tofu is on PATH; install one or set inventory.executable (-TerraformExecutable)");
    }

    private static InventoryException NotFound(string why) => new($"cannot run terraform: {why}.") { Failure = EngineFailure.TerraformNotFound };

    private static string? FindOnPath(string name)
    {
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public async Task<IReadOnlyList<Guest>> GetGuestsAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_directory))
        {
            throw new InventoryException($"{_directory}: the Terraform directory does not exist.") { Failure = EngineFailure.InventoryUnreadable };
        }
        var exe = ResolveExecutable(_executable);
        var name = System.IO.Path.GetFileName(exe);
        var psi = new ProcessStartInfo(exe)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        psi.ArgumentList.Add("output");
        psi.ArgumentList.Add("-json");
        psi.Environment["TF_IN_AUTOMATION"] = "1";
        psi.Environment["TF_INPUT"] = "0";
        psi.Environment["NO_COLOR"] = "1";

        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InventoryException($"cannot start {exe}: {ex.Message}") { Failure = EngineFailure.TerraformNotFound };
        }
        process.StandardInput.Close();
        // Both streams are read with a cap: a runaway terraform (or a wrapper printing without end) is killed at it.
        var stdout = BoundedInput.ReadProcessStreamAsync(process.StandardOutput.BaseStream, BoundedInput.InventoryBytes, $"the output of {name} output -json in {_directory}", () => Kill(process), CancellationToken.None);
        var stderr = BoundedInput.ReadProcessStreamAsync(process.StandardError.BaseStream, BoundedInput.ErrorOutputBytes, $"the error output of {name} output -json in {_directory}", () => Kill(process), CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            if (cancellationToken.IsCancellationRequested) throw;
            if ((TooLarge(stdout) ?? TooLarge(stderr)) is { } big) throw new InventoryException($"{big.Message}; {name} was stopped.") { Failure = EngineFailure.InventoryTooLarge };
            throw new InventoryException($"{name} output -json in {_directory} did not finish within {_timeout.TotalSeconds:0.#} s and was stopped; raise inventory.timeoutSec (-TimeoutSec) or check the state backend.") { Failure = EngineFailure.TerraformTimeout };
        }
        // The pipes close when the process (and any child holding them) ends; bound that wait too.
        string output, errors;
        try
        {
            output = await stdout.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            errors = await stderr.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Kill(process);
            throw new InventoryException($"{name} output -json in {_directory} exited but left a child process holding its output open.") { Failure = EngineFailure.TerraformTimeout };
        }
        catch (InputTooLargeException big)
        {
            throw new InventoryException($"{big.Message}; {name} was stopped.") { Failure = EngineFailure.InventoryTooLarge };
        }
        if (process.ExitCode != 0)
        {
            throw new InventoryException($"{name} output -json in {_directory} failed with exit code {process.ExitCode}: {Summarize(errors)}") { Failure = EngineFailure.TerraformFailed };
        }
        return TerraformOutputReader.Read(output, $"{name} output -json in {_directory}", _environment, _options, isState: false);
    }

    private static InputTooLargeException? TooLarge(Task<string> read)
        => read.IsFaulted ? read.Exception?.InnerException as InputTooLargeException : null;

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(2000);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private static readonly Regex Ansi = new(@"\x1B\[[0-9;]*[A-Za-z]", RegexOptions.CultureInvariant);

    /// <summary>The first meaningful lines of stderr, without colour codes or box drawing, at most 400 characters.</summary>
    internal static string Summarize(string stderr)
    {
        var lines = Ansi.Replace(stderr, string.Empty).Split('\n')
            .Select(l => l.Trim().TrimStart('│', '╷', '╵', ' ').Trim())
            .Where(l => l.Length > 0)
            .Take(4);
        var text = string.Join(" ", lines);
        if (text.Length == 0) return "no message on stderr.";
        return text.Length > 400 ? text[..400] + "…" : text;
    }
}
