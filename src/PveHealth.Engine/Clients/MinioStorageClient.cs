using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;
using PveHealth.Configuration;

namespace PveHealth.Clients;

/// <summary>How to reach a MinIO (S3) endpoint, with the keys already resolved. Keys never reach a message.</summary>
public sealed class MinioSettings
{
    public required Uri Endpoint { get; init; }
    public required string AccessKey { get; init; }
    public required string SecretKey { get; init; }
    public string Region { get; init; } = "us-east-1";
    public string? CaFile { get; init; }
    public bool SkipCertificateCheck { get; init; }

    /// <summary>From the environment's minio section; secrets through <see cref="SecretResolver"/>.</summary>
    public static MinioSettings FromConfig(PveHealth.Configuration.MinioConfig config, string what)
    {
        if (!Uri.TryCreate(config.Endpoint, UriKind.Absolute, out var url))
        {
            throw new ArgumentException($"{what}.endpoint: expected an absolute http(s) URL; found '{config.Endpoint}'.");
        }
        if (config.AccessKey is null || config.SecretKey is null)
        {
            throw new SecretUnavailableException($"{what}: accessKey and secretKey references are needed for the S3 checks.");
        }
        return new MinioSettings
        {
            Endpoint = url,
            AccessKey = SecretResolver.Resolve(config.AccessKey, what + ".accessKey"),
            SecretKey = SecretResolver.Resolve(config.SecretKey, what + ".secretKey"),
            Region = string.IsNullOrWhiteSpace(config.Region) ? "us-east-1" : config.Region,
            CaFile = config.CaFile,
            SkipCertificateCheck = config.SkipCertificateCheck,
        };
    }
}

public enum StorageFailure
{
    /// <summary>No answer: refused, unresolvable, TLS, or not within the time the check had.</summary>
    Unreachable,
    /// <summary>The keys were rejected.</summary>
    AccessDenied,
    NotFound,
    TooLarge,
    /// <summary>The endpoint answered with a redirect (never followed).</summary>
    Redirected,
    Other,
}

/// <summary>An S3 call that failed, classified. The message is a result Detail and never holds a key.</summary>
public sealed class StorageException(StorageFailure kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public StorageFailure Kind { get; } = kind;
}

/// <summary>An object's listing or stat data.</summary>
public sealed record StoredObject(string Bucket, string Key, long Size, DateTimeOffset LastModified)
{
    public string Path => $"{Bucket}/{Key}";
}

/// <summary>
/// The few S3 calls PveHealth makes, through the Minio SDK with this client's own HttpClient (TLS policy as
/// the HTTP checks) and every call bounded by a token and a time budget: the SDK's own timeout is not relied on.
/// </summary>
public sealed class MinioStorageClient : IDisposable
{
    public const string AccessDeniedText = "access denied: check accessKey/secretKey references";

    private readonly MinioSettings _settings;
    private readonly HttpClient _http;
    private readonly IMinioClient _minio;

    public MinioStorageClient(MinioSettings settings)
    {
        _settings = settings;
        // Every S3 answer is capped after decompression (a listing page is XML the SDK reads whole); object
        // downloads stop at their own cap inside DownloadAsync, so they pass through uncapped here.
        var capped = new BoundedInput.CappingHandler(new RedirectStop(HttpEndpointClient.CreateHandler(settings.CaFile, settings.SkipCertificateCheck)),
            request => IsObjectDownload(request) ? long.MaxValue : MaxAnswerBytes, $"S3 {settings.Endpoint.Host}:{settings.Endpoint.Port}",
            big => Refuse(StorageFailure.TooLarge, big));
        _http = new HttpClient(capped, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var https = settings.Endpoint.Scheme == Uri.UriSchemeHttps;
        _minio = new MinioClient()
            .WithEndpoint(settings.Endpoint.Host, settings.Endpoint.Port)
            .WithSSL(https)
            .WithCredentials(settings.AccessKey, settings.SecretKey)
            .WithRegion(settings.Region)
            .WithHttpClient(_http, disposeHttpClient: false)
            .Build();
    }

    public Uri Endpoint => _settings.Endpoint;

    /// <summary>Most of one S3 answer read (listings, errors); object downloads have their own cap.</summary>
    public const long MaxAnswerBytes = BoundedInput.S3AnswerBytes;

    /// <summary>Most objects one listing returns; a server that lists more (or pages forever) is refused.</summary>
    public const int MaxListedObjects = 10_000;

    /// <summary>GET /bucket/key without a query: an object download (DownloadAsync caps it).</summary>
    private static bool IsObjectDownload(HttpRequestMessage request)
        => request.Method == HttpMethod.Get && request.RequestUri is { } u && string.IsNullOrEmpty(u.Query)
            && u.AbsolutePath.Trim('/').Contains('/');

    /// <summary>The environment's one S3 client.</summary>
    public static MinioStorageClient ForEnvironment(Configuration.IEnvironmentScope context, Func<MinioSettings> settings)
        => context.Shared("minio-s3", () => new MinioStorageClient(settings()));

    public Task<IReadOnlyList<string>> ListBucketsAsync(TimeSpan budget, CancellationToken ct, TimeSpan? unitTimeout = null)
        => CallAsync<IReadOnlyList<string>>("list buckets", budget, unitTimeout, ct, async token =>
        {
            var result = await _minio.ListBucketsAsync(token).ConfigureAwait(false);
            return result.Buckets.Select(b => b.Name).ToList();
        });

    public Task<bool> BucketExistsAsync(string bucket, TimeSpan budget, CancellationToken ct, TimeSpan? unitTimeout = null)
        => CallAsync($"bucket {bucket}", budget, unitTimeout, ct, token => _minio.BucketExistsAsync(new BucketExistsArgs().WithBucket(bucket), token));

    /// <summary>Stat data of <paramref name="key"/>, or null when it does not exist.</summary>
    public async Task<StoredObject?> StatAsync(string bucket, string key, TimeSpan budget, CancellationToken ct, TimeSpan? unitTimeout = null)
    {
        try
        {
            return await CallAsync($"{bucket}/{key}", budget, unitTimeout, ct, async token =>
            {
                var stat = await _minio.StatObjectAsync(new StatObjectArgs().WithBucket(bucket).WithObject(key), token).ConfigureAwait(false);
                return new StoredObject(bucket, key, stat.Size, AsUtc(stat.LastModified));
            }).ConfigureAwait(false);
        }
        catch (StorageException ex) when (ex.Kind == StorageFailure.NotFound)
        {
            return null;
        }
    }

    /// <summary>Objects under <paramref name="prefix"/> (recursive).</summary>
    public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, TimeSpan budget, CancellationToken ct, TimeSpan? unitTimeout = null)
        => CallAsync<IReadOnlyList<StoredObject>>($"list {bucket}/{prefix}*", budget, unitTimeout, ct, async token =>
        {
            var list = new List<StoredObject>();
            var args = new ListObjectsArgs().WithBucket(bucket).WithPrefix(prefix).WithRecursive(true);
            await foreach (var item in _minio.ListObjectsEnumAsync(args, token).ConfigureAwait(false))
            {
                if (item.IsDir) continue;
                var modified = item.LastModifiedDateTime is { } m ? AsUtc(m) : DateTimeOffset.MinValue;
                if (list.Count >= MaxListedObjects)
                {
                    throw new StorageException(StorageFailure.TooLarge, $"list {bucket}/{prefix}*: more than {MaxListedObjects} objects listed (the cap for a listing); narrow the state object pattern");
                }
                list.Add(new StoredObject(bucket, item.Key, (long)item.Size, modified));
            }
            return list;
        });

    /// <summary>Downloads at most <paramref name="cap"/> bytes; a larger object is a <see cref="StorageFailure.TooLarge"/> failure.</summary>
    public Task<byte[]> DownloadAsync(string bucket, string key, long cap, TimeSpan budget, CancellationToken ct, TimeSpan? unitTimeout = null)
        => CallAsync($"{bucket}/{key}", budget, unitTimeout, ct, async token =>
        {
            using var buffer = new MemoryStream();
            var tooLarge = false;
            var args = new GetObjectArgs().WithBucket(bucket).WithObject(key).WithCallbackStream(async (stream, t) =>
            {
                var chunk = new byte[81920];
                int read;
                while ((read = await stream.ReadAsync(chunk, t).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > cap)
                    {
                        tooLarge = true;
                        return;
                    }
                    buffer.Write(chunk, 0, read);
                }
            });
            await _minio.GetObjectAsync(args, token).ConfigureAwait(false);
            if (tooLarge) throw new StorageException(StorageFailure.TooLarge, $"{bucket}/{key} is larger than the download cap of {Size(cap)}: not downloaded");
            return buffer.ToArray();
        });

    /// <summary>The call in flight on this async flow (so the handlers can stop it).</summary>
    private sealed class CallState(CancellationTokenSource stop)
    {
        public CancellationTokenSource Stop { get; } = stop;
        /// <summary>Why a handler refused an answer (too large, a redirect): the call ends with it.</summary>
        public (StorageFailure Kind, Exception Reason)? Refusal { get; set; }
    }

    /// <summary>
    /// A handler refused an answer. The SDK swallows the exception of a failed read (and may retry or wait on), so the
    /// call that made the request is stopped and ends with the refusal.
    /// </summary>
    private static void Refuse(StorageFailure kind, Exception reason)
    {
        if (CurrentCall.Value is { } call)
        {
            call.Refusal = (kind, reason);
            try { call.Stop.Cancel(); } catch (ObjectDisposedException) { }
        }
    }

    /// <summary>A redirect answer ends the call as <see cref="StorageFailure.Redirected"/> (the SDK would read it as an S3 error).</summary>
    private sealed class RedirectStop(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (Redirects.Describe(response) is not { } redirect) return response;
            response.Dispose();
            var refused = new HttpRequestException(redirect);
            Refuse(StorageFailure.Redirected, refused);
            throw refused;
        }
    }

    private static readonly AsyncLocal<CallState?> CurrentCall = new();

    /// <summary>
    /// One S3 call within <paramref name="budget"/>. Confirmation before Critical (<see cref="Confirmation"/>, the rule of
    /// the Ssh and HTTP checks): a first attempt refused or reset at once is tried once more after
    /// <see cref="Confirmation.Pause"/> of <paramref name="unitTimeout"/> (else of the budget), inside the same budget; its
    /// failure then ends with <see cref="Confirmation.Suffix"/>. No answer in time is never tried again.
    /// </summary>
    private async Task<T> CallAsync<T>(string what, TimeSpan budget, TimeSpan? unitTimeout, CancellationToken ct, Func<CancellationToken, Task<T>> call)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(budget);
        var target = $"{_settings.Endpoint.Host}:{_settings.Endpoint.Port}";
        var state = new CallState(cts);
        CurrentCall.Value = state;
        try
        {
            // WaitAsync: the answer is bounded even where the SDK does not pass the token on.
            return await Confirmation.RunAsync(_ => call(cts.Token).WaitAsync(cts.Token),
                ex => state.Refusal is null && ex is not StorageException && Confirmation.FailsFast(ex), unitTimeout ?? budget, cts.Token).ConfigureAwait(false);
        }
        catch (Exception) when (state.Refusal is { } refusal && !ct.IsCancellationRequested)
        {
            throw new StorageException(refusal.Kind, $"{what}: {refusal.Reason.Message}", refusal.Reason);
        }
        catch (ConfirmedFailureException confirmed) when (confirmed.InnerException is StorageException failure)
        {
            throw new StorageException(failure.Kind, failure.Message + confirmed.Suffix, failure);
        }
        catch (ConfirmedFailureException confirmed)
        {
            var failure = Classify(confirmed.InnerException!, what);
            throw new StorageException(failure.Kind, failure.Message + confirmed.Suffix, failure.InnerException);
        }
        catch (StorageException)
        {
            throw;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new StorageException(StorageFailure.Unreachable, $"no answer from {target} within {HttpEndpointClient.Seconds(unitTimeout is { } u ? Deadline.Stated(u) : budget)} s ({what})");
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw Classify(ex, what);
        }
    }

    private StorageException Classify(Exception ex, string what)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is InputTooLargeException big) return new StorageException(StorageFailure.TooLarge, $"{what}: {big.Message}", ex);
        }
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case HttpRequestException http:
                    return new StorageException(StorageFailure.Unreachable, HttpEndpointClient.DescribeFailure(http, _settings.Endpoint), ex);
                case ObjectNotFoundException or BucketNotFoundException:
                    return new StorageException(StorageFailure.NotFound, $"{what}: not found", ex);
                case AccessDeniedException or AuthorizationException or ForbiddenException:
                    return new StorageException(StorageFailure.AccessDenied, AccessDeniedText, ex);
                case ErrorResponseException r when IsDenied(r.Response?.Code):
                    return new StorageException(StorageFailure.AccessDenied, AccessDeniedText, ex);
                case ErrorResponseException r when r.Response?.Code is "NoSuchKey" or "NoSuchBucket":
                    return new StorageException(StorageFailure.NotFound, $"{what}: not found ({r.Response.Code})", ex);
            }
        }
        var message = Model.CheckResult.OneLine(ex.Message);
        if (IsDenied(message)) return new StorageException(StorageFailure.AccessDenied, AccessDeniedText, ex);
        return new StorageException(StorageFailure.Other, $"{what}: {Scrub(message)}", ex);
    }

    private static bool IsDenied(string? text)
        => text is not null && (text.Contains("InvalidAccessKeyId", StringComparison.OrdinalIgnoreCase)
            || text.Contains("SignatureDoesNotMatch", StringComparison.OrdinalIgnoreCase)
            || text.Contains("AccessDenied", StringComparison.OrdinalIgnoreCase)
            || text.Contains("Access Denied", StringComparison.OrdinalIgnoreCase));

    /// <summary>Removes the keys from a library message before it can become a Detail.</summary>
    private string Scrub(string message)
    {
        foreach (var secret in new[] { _settings.SecretKey, _settings.AccessKey })
        {
            if (!string.IsNullOrEmpty(secret)) message = message.Replace(secret, "***", StringComparison.Ordinal);
        }
        message = SecretScrubber.Scrub(message);
        return message.Length > 300 ? message[..300] + "..." : message;
    }

    internal static string Size(long bytes) => bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes} bytes";

    private static DateTimeOffset AsUtc(DateTime t)
        => new(t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc));

    public void Dispose()
    {
        _minio.Dispose();
        _http.Dispose();
    }
}
