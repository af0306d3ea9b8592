using System.Management.Automation;
using PveHealth.Checks;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>Test-PveVm: checks guests given on the pipeline (Get-PveInventory | Test-PveVm) or by name and address.</summary>
[Cmdlet(VerbsDiagnostic.Test, "PveVm")]
[OutputType("PveHealth.Model.CheckResult")]
public sealed class TestPveVmCommand : CheckCmdletBase
{
    private readonly List<Guest> _guests = new();

    /// <summary>Guest name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = string.Empty;

    /// <summary>Address for ping and SSH.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("IPAddress", "Ip", "HostName")]
    public string? Address { get; set; }

    /// <summary>Vm or Lxc.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Vm", "Lxc")]
    public string Kind { get; set; } = "Vm";

    /// <summary>Proxmox VMID.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int? VmId { get; set; }

    /// <summary>Proxmox node.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Node { get; set; }

    /// <summary>Environment the guest belongs to (labels the results).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Environment { get; set; }

    /// <summary>Checks to run; default all that this version provides.</summary>
    [Parameter]
    [ValidateSet("Ping", "Ssh", "Docker")]
    public string[]? Check { get; set; }

    /// <summary>SSH user (default root).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    /// <summary>Private key file (ed25519 or RSA, OpenSSH format) for the Ssh and Docker checks.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyFile { get; set; }

    /// <summary>known_hosts file the host keys are verified against.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KnownHostsFile { get; set; }

    /// <summary>Pinned host key fingerprint (SHA256:...) accepted instead of known_hosts.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? HostKeyFingerprint { get; set; }

    /// <summary>SSH port (default 22).</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int SshPort { get; set; } = 22;

    /// <summary>Command whose exit status 0 means Docker is active (default 'systemctl is-active docker').</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DockerCommand { get; set; }

    protected override void ProcessRecord()
    {
        _guests.Add(new Guest(Name, Enum.Parse<GuestKind>(Kind, ignoreCase: true))
        {
            Address = Address,
            VmId = VmId,
            Node = Node,
            Environment = Environment ?? string.Empty,
            Source = "pipeline",
        });
    }

    protected override void EndProcessing()
    {
        var options = new RunOptions { CheckTimeout = TimeSpan.FromSeconds(TimeoutSec), ThrottleLimit = ThrottleLimit, RunTimeout = TimeSpan.FromSeconds(Math.Max(300, TimeoutSec * 4)) };
        var wanted = (Check is { Length: > 0 } ? Check : CheckCatalog.GuestChecks.ToArray()).ToList();
        var contexts = new Dictionary<string, EnvironmentContext>(StringComparer.OrdinalIgnoreCase);
        var units = new List<CheckUnit>();
        foreach (var guest in _guests)
        {
            if (!contexts.TryGetValue(guest.Environment, out var context))
            {
                var envConfig = new Configuration.EnvironmentConfig();
                if (KeyFile is not null)
                {
                    envConfig.Ssh = new Configuration.SshConfig
                    {
                        User = User,
                        KeyFile = SessionState.Path.GetUnresolvedProviderPathFromPSPath(KeyFile),
                        KnownHostsFile = KnownHostsFile is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(KnownHostsFile),
                        HostKeyFingerprint = HostKeyFingerprint,
                        Port = SshPort,
                        DockerCommand = DockerCommand,
                    };
                }
                context = new EnvironmentContext(guest.Environment, envConfig, options);
                contexts[guest.Environment] = context;
            }
            foreach (var provider in CheckCatalog.GuestProviders)
            {
                var mine = provider.Checks.Where(c => wanted.Contains(c, StringComparer.OrdinalIgnoreCase)).ToList();
                if (mine.Count == 0) continue;
                var unit = provider.Create(guest, context, mine, out var reason);
                if (unit is not null) units.Add(unit);
                else foreach (var c in mine) WriteResult(new CheckResult(guest.Environment, guest.Name, guest.Kind.ToString(), c, CheckStatus.Skipped, reason ?? "not applicable", TimeSpan.Zero, guest.Address));
            }
        }
        RunAndWrite(units, options);
        WriteSummary();
    }
}
