using System.Management.Automation;
using PveHealth.Checks;
using PveHealth.Exclusions;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Planning;
using PveHealth.Model;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>Test-PveVm: checks guests given on the pipeline (Get-PveInventory | Test-PveVm) or by name and address.</summary>
[Cmdlet(VerbsDiagnostic.Test, "PveVm")]
[OutputType("PveHealth.Model.CheckResult")]
public sealed class TestPveVmCommand : CheckCmdletBase
{
    private readonly List<GuestRequest> _requests = new();

    /// <summary>Guest names; plain strings bind from the pipeline ('web-01', 'db-01' | Test-PveVm), objects by their Name property.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>Address for ping and SSH.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("IPAddress", "Ip", "HostName")]
    public string? Address { get; set; }

    /// <summary>Vm or Lxc.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Vm", "Lxc")]
    public string? Kind { get; set; }

    /// <summary>Proxmox VMID.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int? VmId { get; set; }

    /// <summary>Proxmox node.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Node { get; set; }

    /// <summary>Environment the guest belongs to; default the configuration's only environment (labels the results).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Checks to run (the catalog's guest checks; completed with Tab); default all that this version provides.</summary>
    [Parameter]
    [ValidateGuestCheck]
    [ArgumentCompleter(typeof(GuestCheckCompleter))]
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

    /// <summary>
    /// Configuration file whose environments give the proxmox and ssh sections for the guests' environments
    /// (default $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json when it exists). Parameters override it.
    /// Guests from Get-PveInventory carry the file they were read from, so it binds from the pipeline (null or empty: the default).
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? ConfigPath { get; set; }

    /// <summary>Proxmox API URL (https://host:8006) for ApiStatus and GuestAgent; needs -Credential unless the configuration has the token.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ProxmoxUrl { get; set; }

    /// <summary>Proxmox API token: user name = token id (USER@REALM!TOKENID), password = the token secret.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Pinned SHA-256 fingerprint of the Proxmox API certificate (hex, colons optional).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificateFingerprint { get; set; }

    /// <summary>Do not verify the Proxmox API certificate (warned on every run).</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    protected override void ProcessRecord()
    {
        // Per guest: -ConfigPath (or the guest's own ConfigPath), else $env:PVE_HEALTH_CONFIG, else the default file when it exists.
        var configPath = ResolveConfigPath();
        foreach (var name in Name)
        {
            _requests.Add(new GuestRequest
            {
                Name = name,
                Address = string.IsNullOrWhiteSpace(Address) ? null : Address,
                Kind = Kind is null ? null : Enum.Parse<GuestKind>(Kind, ignoreCase: true),
                VmId = VmId,
                Node = string.IsNullOrWhiteSpace(Node) ? null : Node,
                Environment = Environment,
                ConfigPath = configPath,
            });
        }
    }

    protected override void EndProcessing()
    {
        var parameters = RunParameters();
        var guestParameters = new GuestParameters
        {
            User = User,
            KeyFile = KeyFile is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(KeyFile),
            KnownHostsFile = KnownHostsFile is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(KnownHostsFile),
            HostKeyFingerprint = HostKeyFingerprint,
            SshPort = MyInvocation.BoundParameters.ContainsKey(nameof(SshPort)) ? SshPort : null,
            DockerCommand = DockerCommand,
            ProxmoxUrl = ProxmoxUrl,
            // NetworkCredential(user, password) keeps "root@pam!health" whole (GetNetworkCredential() would split it at '@').
            Credential = Credential is null ? null : new System.Net.NetworkCredential(Credential.UserName, Credential.GetNetworkCredential().Password),
            CertificateFingerprint = CertificateFingerprint,
            SkipCertificateCheck = SkipCertificateCheck.IsPresent,
        };
        var wanted = (Check is { Length: > 0 } ? Check : CheckCatalog.GuestChecks.ToArray()).ToList();
        GuestRequestPlan built;
        try
        {
            // The engine's rule: the guest's configuration and environment (else the only one), its address from the inventory.
            built = GuestRequestPlanner.BuildAsync(_requests, LoadConfig, parameters, guestParameters, wanted, InventorySourceFactory.ForRun, Cancellation)
                .GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return;
        }
        using var plan = built.Plan; // the contexts and their clients are disposed when the run is over
        foreach (var note in built.Notes) WriteVerbose(note);
        foreach (var warning in built.Warnings) WriteWarning(warning);
        foreach (var error in built.Errors) WriteError(ErrorRecordFactory.From(error));
        ShowEnvironment = plan.EnvironmentNames.Count > 1;
        foreach (var decided in plan.Decided) WriteResult(decided);
        foreach (var context in plan.Contexts)
        {
            if (context.Config.Proxmox is { SkipCertificateCheck: true } p)
            {
                WriteWarning($"TLS certificate verification of the Proxmox API {p.Url} is OFF (-SkipCertificateCheck / proxmox.skipCertificateCheck): the API token can be read by anyone on the path. Pin -CertificateFingerprint instead.");
            }
        }
        RunAndWrite(plan.Units, built.Options);
        WriteSummary();
    }

    private string? ResolveConfigPath()
    {
        var explicitPath = !string.IsNullOrWhiteSpace(ConfigPath) || !string.IsNullOrWhiteSpace(System.Environment.GetEnvironmentVariable(Configuration.ConfigLoader.PathVariable));
        var path = CmdletConfiguration.ResolvePath(this, string.IsNullOrWhiteSpace(ConfigPath) ? null : ConfigPath);
        return explicitPath || File.Exists(path) ? path : null;
    }

    private Configuration.PveHealthConfig LoadConfig(string path)
    {
        var config = CmdletConfiguration.Load(this, path);
        WriteVerbose($"Using the proxmox and ssh sections of {path} for the guests' environments.");
        return config;
    }
}
