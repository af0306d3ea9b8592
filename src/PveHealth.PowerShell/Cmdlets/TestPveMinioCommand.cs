using System.Management.Automation;
using PveHealth.Checks.Minio;
using PveHealth.Clients;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Planning;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Test-PveMinio: MinIO's health routes (live, ready, cluster), the keys, buckets, Terraform state objects
/// and stale .tflock locks, from parameters or from the configuration's minio sections.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "PveMinio", DefaultParameterSetName = "Endpoint")]
[OutputType("PveHealth.Model.CheckResult")]
public sealed class TestPveMinioCommand : CheckCmdletBase
{
    /// <summary>S3 endpoint of MinIO (http://minio:9000).</summary>
    [Parameter(ParameterSetName = "Endpoint", Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Endpoint { get; set; }

    /// <summary>Access key (user name) and secret key (password). Without it only the health routes are checked.</summary>
    [Parameter(ParameterSetName = "Endpoint")]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Buckets that must exist.</summary>
    [Parameter(ParameterSetName = "Endpoint")]
    [ValidateNotNullOrEmpty]
    public string[]? Bucket { get; set; }

    /// <summary>Terraform state objects as "bucket/key"; wildcards allowed in the key.</summary>
    [Parameter(ParameterSetName = "Endpoint")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? StateObject { get; set; }

    /// <summary>A state not written for longer is a Warning (default 168).</summary>
    [Parameter(ParameterSetName = "Endpoint")]
    [ValidateRange(0.0001, 1_000_000)]
    public double MaxStateAgeHours { get; set; } = 168;

    /// <summary>A .tflock older than this is a Warning (default 60).</summary>
    [Parameter(ParameterSetName = "Endpoint")]
    [ValidateRange(0.001, 1_000_000)]
    public double MaxLockAgeMinutes { get; set; } = 60;

    /// <summary>Do not verify the TLS certificate (warned on every run).</summary>
    [Parameter(ParameterSetName = "Endpoint")]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Configuration file; default $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json.</summary>
    [Parameter(ParameterSetName = "Config")]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    /// <summary>Environments from the configuration (wildcards allowed); default the only one, or all.</summary>
    [Parameter(ParameterSetName = "Config")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string[]? Environment { get; set; }

    protected override void EndProcessing()
    {
        var parameters = RunParameters();
        var contexts = new List<EnvironmentContext>();
        var units = new List<CheckUnit>();
        RunOptions options;
        if (ParameterSetName == "Endpoint")
        {
            options = RunPolicy.Options(null, parameters);
            var url = ServiceCmdletSupport.HttpUrl(Endpoint);
            if (url is null)
            {
                ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.InvalidUrl, $"-Endpoint: expected an absolute http(s) URL, for example http://minio:9000; found '{Endpoint}'.", Endpoint));
                return;
            }
            foreach (var so in StateObject ?? [])
            {
                var slash = so.IndexOf('/');
                if (slash <= 0 || slash == so.Length - 1)
                {
                    ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.InvalidStateObject, $"-StateObject: expected \"bucket/key\", for example tfstate/prod/terraform.tfstate; found '{so}'.", so));
                }
            }
            if (Credential is null && (Bucket is not null || StateObject is not null))
            {
                ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.CredentialRequired, "-Bucket and -StateObject need -Credential (user name = access key, password = secret key).", null));
            }
            if (SkipCertificateCheck.IsPresent)
            {
                WriteWarning($"-SkipCertificateCheck: the TLS certificate of {url.Host}:{url.Port} is NOT verified; anyone on the path can impersonate it.");
            }
            Func<MinioSettings>? settings = null;
            if (Credential is not null)
            {
                var credential = Credential;
                var skip = SkipCertificateCheck.IsPresent;
                settings = () => new MinioSettings
                {
                    Endpoint = url,
                    AccessKey = credential.UserName,
                    SecretKey = credential.GetNetworkCredential().Password,
                    SkipCertificateCheck = skip,
                };
            }
            var checkOptions = new MinioCheckOptions
            {
                Buckets = Bucket ?? [],
                StateObjects = StateObject ?? [],
                MaxStateAge = TimeSpan.FromHours(MaxStateAgeHours),
                MaxLockAge = TimeSpan.FromMinutes(MaxLockAgeMinutes),
            };
            var context = new EnvironmentContext(string.Empty, new EnvironmentConfig(), options);
            contexts.Add(context);
            units.AddRange(MinioCheckProvider.ForEndpoint(context, url, null, SkipCertificateCheck.IsPresent, settings, checkOptions));
        }
        else
        {
            (contexts, options) = ServiceCmdletSupport.Load(this, ConfigPath, Environment, parameters);
            var provider = new MinioCheckProvider();
            foreach (var context in contexts)
            {
                if (context.Config.Minio is { SkipCertificateCheck: true } m)
                {
                    WriteWarning($"environments.{context.Name}.minio.skipCertificateCheck: the TLS certificate of {m.Endpoint} is NOT verified.");
                }
                units.AddRange(provider.Create(context));
            }
            if (units.Count == 0)
            {
                WriteError(ErrorRecordFactory.Create(EngineFailure.NoMinioConfigured, "no minio section in the selected environments: add one or pass -Endpoint and -Credential.", ConfigPath));
            }
        }
        try
        {
            RunAndWrite(units, options);
        }
        finally
        {
            foreach (var context in contexts) context.Dispose();
        }
        WriteSummary();
    }
}
