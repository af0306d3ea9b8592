using PveHealth.Checks.Monitoring;
using PveHealth.Clients;
using PveHealth.Configuration;
using PveHealth.Exclusions;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks.Minio;

/// <summary>MinIO's unauthenticated health routes: <c>/minio/health/live</c>, <c>/ready</c> and <c>/cluster</c> (write quorum).</summary>
public sealed class MinioHealthCheck : EndpointCheckUnit
{
    public const string Live = "Live";
    public const string Ready = "Ready";
    public const string Cluster = "Cluster";

    public MinioHealthCheck(string environment, string target, Func<HttpEndpointClient> client, string component = "minio")
        : base(environment, component, "Minio", target, [Live, Ready, Cluster], client) { }

    protected override async Task RunAsync(CheckReporter reporter, HttpEndpointClient client, CancellationToken cancellationToken)
    {
        string? unreachable = null;
        foreach (var (check, route, ok, bad) in new[]
        {
            (Live, "/minio/health/live", "live", "not live"),
            (Ready, "/minio/health/ready", "ready", "not ready"),
            (Cluster, "/minio/health/cluster", "write quorum", "no write quorum"),
        })
        {
            if (!Runs(check)) continue;
            if (unreachable is not null)
            {
                // Same host, same failure: no second wait for an answer that will not come.
                reporter.Report(check, CheckStatus.Critical, unreachable);
                continue;
            }
            try
            {
                var answer = await client.GetAsync(route, reporter.Remaining, cancellationToken, reporter.Timeout).ConfigureAwait(false);
                if (answer.IsSuccess) reporter.Report(check, CheckStatus.Ok, ok + TlsNote(client));
                else reporter.Report(check, CheckStatus.Critical, $"{bad}: {route}: {answer.Describe()}");
            }
            catch (EndpointUnreachableException ex)
            {
                unreachable = ex.Message;
                reporter.Report(check, CheckStatus.Critical, ex.Message);
            }
        }
    }
}

/// <summary>What the S3 checks look at: buckets, state objects and the age limits.</summary>
public sealed class MinioCheckOptions
{
    public IReadOnlyList<string> Buckets { get; init; } = [];
    /// <summary>"bucket/key", wildcards allowed in the key.</summary>
    public IReadOnlyList<string> StateObjects { get; init; } = [];
    public TimeSpan MaxStateAge { get; init; } = TimeSpan.FromHours(168);
    public TimeSpan MaxLockAge { get; init; } = TimeSpan.FromMinutes(60);
    /// <summary>Most of a state object that is downloaded and parsed.</summary>
    public long MaxStateBytes { get; init; } = 64L * 1024 * 1024;

    public static MinioCheckOptions FromConfig(MinioConfig config) => new()
    {
        Buckets = config.Buckets ?? [],
        StateObjects = config.StateObjects ?? [],
        MaxStateAge = TimeSpan.FromHours(config.MaxStateAgeHours ?? 168),
        MaxLockAge = TimeSpan.FromMinutes(config.MaxLockAgeMinutes ?? 60),
    };
}

/// <summary>
/// The S3 side of MinIO through the Minio SDK: Credentials (list buckets), Bucket (each configured bucket exists),
/// State (each state object: exists, not empty, valid Terraform state v4, not older than the limit) and Lock
/// (a <c>&lt;key&gt;.tflock</c> older than the limit is a Warning naming Who and Created from the lock's JSON).
/// </summary>
/// <remarks>
/// A lock's age is taken from its JSON "Created" field — the time Terraform took the lock — and only when that is
/// missing or unreadable from the object's LastModified (which a copy, a replication or s3rver's upload time may reset).
/// </remarks>
public sealed class MinioStorageCheck : CheckUnit
{
    public const string Credentials = "Credentials";
    public const string Bucket = "Bucket";
    public const string State = "State";
    public const string Lock = "Lock";
    public const string StateType = "TerraformState";
    public const string BucketType = "Bucket";
    private const long MaxLockBytes = 1024 * 1024;

    private readonly Func<MinioStorageClient> _client;
    private readonly MinioCheckOptions _options;

    public MinioStorageCheck(string environment, string target, Func<MinioStorageClient> client, MinioCheckOptions options, string component = "minio")
        : base(environment, component, "Minio", target, ChecksFor(options))
    {
        _client = client;
        _options = options;
    }

    private static IReadOnlyList<string> ChecksFor(MinioCheckOptions o)
    {
        var checks = new List<string> { Credentials };
        if (o.Buckets.Count > 0) checks.Add(Bucket);
        if (o.StateObjects.Count > 0) checks.AddRange([State, Lock]);
        return checks;
    }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        MinioStorageClient client;
        try
        {
            client = _client();
        }
        catch (Exception ex) when (ex is SecretUnavailableException or EndpointUnreachableException or ArgumentException)
        {
            foreach (var check in Checks) reporter.Report(check, CheckStatus.Unknown, ex.Message);
            return;
        }

        // Credentials first: every other call needs them, and a refused endpoint or rejected key ends the unit.
        try
        {
            var buckets = await client.ListBucketsAsync(reporter.Remaining, cancellationToken, reporter.Timeout).ConfigureAwait(false);
            if (Runs(Credentials)) reporter.Report(Credentials, CheckStatus.Ok, $"keys accepted; {buckets.Count} buckets visible");
        }
        catch (StorageException ex)
        {
            reporter.Report(Credentials, ex.Kind == StorageFailure.Other ? CheckStatus.Unknown : CheckStatus.Critical, ex.Message);
            var why = ex.Kind == StorageFailure.AccessDenied ? "the keys were rejected" : "the S3 endpoint did not answer";
            foreach (var check in Checks.Where(c => c != Credentials)) reporter.Report(check, CheckStatus.Skipped, $"not checked: {why}");
            return;
        }

        if (Runs(Bucket))
        {
            foreach (var bucket in _options.Buckets)
            {
                var started = reporter.Elapsed;
                CheckStatus status;
                string detail;
                try
                {
                    var exists = await client.BucketExistsAsync(bucket, reporter.Remaining, cancellationToken, reporter.Timeout).ConfigureAwait(false);
                    (status, detail) = exists ? (CheckStatus.Ok, "exists") : (CheckStatus.Critical, $"bucket {bucket} does not exist");
                }
                catch (StorageException ex)
                {
                    (status, detail) = (StatusOf(ex), ex.Message);
                }
                reporter.Report(new CheckResult(Environment, bucket, BucketType, Bucket, status, detail, reporter.Elapsed - started, Target));
            }
        }

        if (Runs(State) || Runs(Lock))
        {
            foreach (var pattern in _options.StateObjects)
            {
                await CheckStatePatternAsync(client, reporter, pattern, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task CheckStatePatternAsync(MinioStorageClient client, CheckReporter reporter, string pattern, CancellationToken ct)
    {
        var slash = pattern.IndexOf('/');
        var bucket = pattern[..slash];
        var keyPattern = pattern[(slash + 1)..];
        var started = reporter.Elapsed;
        List<StoredObject> objects;
        try
        {
            if (Wildcard.HasWildcard(keyPattern))
            {
                var prefix = keyPattern[..keyPattern.IndexOfAny(['*', '?', '['])];
                var regex = Wildcard.ToRegex(keyPattern);
                objects = (await client.ListAsync(bucket, prefix, reporter.Remaining, ct, reporter.Timeout).ConfigureAwait(false))
                    .Where(o => regex.IsMatch(o.Key) && !o.Key.EndsWith(".tflock", StringComparison.Ordinal))
                    .OrderBy(o => o.Key, StringComparer.Ordinal).ToList();
                if (objects.Count == 0)
                {
                    Report(reporter, pattern, State, CheckStatus.Critical, $"no object in bucket {bucket} matches '{keyPattern}'", started);
                    reporter.NoResult(Lock); // no state object read, so no lock to judge: the State row says why
                    return;
                }
            }
            else
            {
                var stat = await client.StatAsync(bucket, keyPattern, reporter.Remaining, ct, reporter.Timeout).ConfigureAwait(false);
                if (stat is null)
                {
                    Report(reporter, pattern, State, CheckStatus.Critical, $"state object not found: {pattern}", started);
                    reporter.NoResult(Lock); // no state object read, so no lock to judge: the State row says why
                    return;
                }
                objects = [stat];
            }
        }
        catch (StorageException ex)
        {
            Report(reporter, pattern, State, StatusOf(ex), ex.Message, started);
            reporter.NoResult(Lock); // no state object read, so no lock to judge: the State row says why
            return;
        }

        foreach (var obj in objects)
        {
            if (Runs(State)) await CheckStateAsync(client, reporter, obj, ct).ConfigureAwait(false);
            if (Runs(Lock)) await CheckLockAsync(client, reporter, obj, ct).ConfigureAwait(false);
        }
    }

    private async Task CheckStateAsync(MinioStorageClient client, CheckReporter reporter, StoredObject obj, CancellationToken ct)
    {
        var started = reporter.Elapsed;
        var now = DateTimeOffset.UtcNow;
        var age = now - obj.LastModified;
        if (obj.Size == 0)
        {
            Report(reporter, obj.Path, State, CheckStatus.Critical, $"the object is empty (0 bytes, written {Durations.Stamp(obj.LastModified)}): a failed upload or a wiped state", started);
            return;
        }
        byte[] data;
        try
        {
            data = await client.DownloadAsync(obj.Bucket, obj.Key, _options.MaxStateBytes, reporter.Remaining, ct, reporter.Timeout).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            Report(reporter, obj.Path, State, ex.Kind == StorageFailure.TooLarge ? CheckStatus.Unknown : StatusOf(ex), ex.Message, started);
            return;
        }
        var (status, detail) = Evaluate(data, age, _options.MaxStateAge);
        Report(reporter, obj.Path, State, status, detail, started);
    }

    /// <summary>The verdict on a downloaded state object of <paramref name="age"/>.</summary>
    public static (CheckStatus Status, string Detail) Evaluate(byte[] data, TimeSpan age, TimeSpan maxAge)
    {
        TerraformStateInfo info;
        try
        {
            info = TerraformStateValidator.Validate(data);
        }
        catch (StateInvalidException ex)
        {
            return (CheckStatus.Critical, ex.Message);
        }
        var facts = $"serial {info.Serial}, age {Durations.Short(age)}, terraform {info.TerraformVersion}, lineage {info.Lineage}, {info.Resources} resources, {info.Outputs} outputs";
        if (age > maxAge)
        {
            return (CheckStatus.Warning, $"not written for {Durations.Short(age)} (limit {Durations.Short(maxAge)}): {facts}");
        }
        return (CheckStatus.Ok, facts);
    }

    private async Task CheckLockAsync(MinioStorageClient client, CheckReporter reporter, StoredObject state, CancellationToken ct)
    {
        var started = reporter.Elapsed;
        var lockKey = state.Key + ".tflock";
        try
        {
            var stat = await client.StatAsync(state.Bucket, lockKey, reporter.Remaining, ct, reporter.Timeout).ConfigureAwait(false);
            if (stat is null)
            {
                Report(reporter, state.Path, Lock, CheckStatus.Ok, "not locked", started);
                return;
            }
            TerraformLock? info = null;
            string? unreadable = null;
            try
            {
                var data = await client.DownloadAsync(state.Bucket, lockKey, MaxLockBytes, reporter.Remaining, ct, reporter.Timeout).ConfigureAwait(false);
                info = TerraformLock.Parse(data);
            }
            catch (StateInvalidException ex)
            {
                unreadable = ex.Message;
            }
            var (status, detail) = EvaluateLock(info, unreadable, stat.LastModified, DateTimeOffset.UtcNow, _options.MaxLockAge);
            Report(reporter, state.Path, Lock, status, detail, started);
        }
        catch (StorageException ex)
        {
            Report(reporter, state.Path, Lock, StatusOf(ex), ex.Message, started);
        }
    }

    /// <summary>
    /// A lock younger than <paramref name="maxAge"/> is Ok (a run in progress); older is a Warning naming Who and
    /// Created. The age comes from the lock's Created field, else from the object's LastModified.
    /// </summary>
    public static (CheckStatus Status, string Detail) EvaluateLock(TerraformLock? info, string? unreadable, DateTimeOffset objectModified, DateTimeOffset now, TimeSpan maxAge)
    {
        var created = info?.Created ?? objectModified;
        var source = info?.Created is null ? " (Created missing: age from the object's LastModified)" : string.Empty;
        var age = now - created;
        var who = info?.Who is { Length: > 0 } w ? w : "unknown holder";
        var what = info is null
            ? $"lock object present but unreadable ({unreadable})"
            : $"held by {who} since {Durations.Stamp(created)}{source} ({Durations.Short(age)}; operation {info.Operation ?? "?"}, lock ID {info.Id ?? "?"})";
        if (age > maxAge)
        {
            var fix = info?.Id is { Length: > 0 } id ? $"; if no Terraform run is active: terraform force-unlock {id}" : string.Empty;
            return (CheckStatus.Warning, $"stale lock older than {Durations.Short(maxAge)}: {what}{fix}");
        }
        return (CheckStatus.Ok, $"locked: {what}");
    }

    private void Report(CheckReporter reporter, string component, string check, CheckStatus status, string detail, TimeSpan started)
        => reporter.Report(new CheckResult(Environment, component, StateType, check, status, detail, reporter.Elapsed - started, Target));

    private static CheckStatus StatusOf(StorageException ex) => ex.Kind switch
    {
        StorageFailure.Other or StorageFailure.TooLarge => CheckStatus.Unknown,
        _ => CheckStatus.Critical,
    };
}

/// <summary>The Minio group: health routes (always) and the S3 checks (with keys configured).</summary>
public sealed class MinioCheckProvider : IServiceCheckProvider
{
    public string Group => "Minio";

    public IReadOnlyList<string> Checks { get; } =
        [MinioHealthCheck.Live, MinioHealthCheck.Ready, MinioHealthCheck.Cluster, MinioStorageCheck.Credentials, MinioStorageCheck.Bucket, MinioStorageCheck.State, MinioStorageCheck.Lock, TlsCertificate.Name];

    public IEnumerable<CheckUnit> Create(EnvironmentContext environment)
    {
        var minio = environment.Config.Minio;
        if (minio is null) yield break;
        var what = $"environments.{environment.Name}.minio";
        if (!Uri.TryCreate(minio.Endpoint, UriKind.Absolute, out var url)) yield break; // the validator rejects this earlier
        foreach (var unit in ForEndpoint(environment, url, minio.CaFile, minio.SkipCertificateCheck,
            () => MinioSettings.FromConfig(minio, what), MinioCheckOptions.FromConfig(minio)))
        {
            yield return unit;
        }
    }

    /// <summary>
    /// The units for one endpoint: the health routes, and the S3 checks when <paramref name="settings"/> is given
    /// (Test-PveMinio -Endpoint -Credential). Secrets are read when the unit runs, so a missing one is a result.
    /// </summary>
    public static IEnumerable<CheckUnit> ForEndpoint(EnvironmentContext environment, Uri endpoint, string? caFile, bool skipCertificateCheck,
        Func<MinioSettings>? settings, MinioCheckOptions options)
    {
        var target = HttpEndpointClient.Display(endpoint);
        yield return new MinioHealthCheck(environment.Name, target, () => HttpEndpointClient.ForEnvironment(environment, "minio-health",
            () => new HttpEndpointSettings { BaseUrl = endpoint, CaFile = caFile, SkipCertificateCheck = skipCertificateCheck }))
        {
            CertificateThresholds = environment.Config.NodeHealth,
        };
        if (settings is not null)
        {
            yield return new MinioStorageCheck(environment.Name, target, () => MinioStorageClient.ForEnvironment(environment, settings), options);
        }
    }
}
