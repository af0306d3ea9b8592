using PveHealth.Clients;
using PveHealth.Configuration;
using PveHealth.Model;

namespace PveHealth.Inventory;

/// <summary>
/// Guests from the outputs of a Terraform state object in MinIO (inventory.source "minio-state",
/// inventory.stateObject "bucket/key"): downloaded through the S3 API and read like a state file,
/// so discovery needs no terraform binary.
/// </summary>
public sealed class MinioStateSource : IInventorySource
{
    private const long MaxStateBytes = 64L * 1024 * 1024;

    private readonly string _environment;
    private readonly MinioConfig _minio;
    private readonly InventoryConfig _inventory;
    private readonly string _bucket;
    private readonly string _key;

    public MinioStateSource(string environment, MinioConfig minio, InventoryConfig inventory)
    {
        _environment = environment;
        _minio = minio;
        _inventory = inventory;
        var stateObject = inventory.StateObject ?? string.Empty;
        var slash = stateObject.IndexOf('/');
        if (slash <= 0 || slash == stateObject.Length - 1)
        {
            throw new InventoryException($"environment {environment}: inventory.stateObject: expected \"bucket/key\"; found '{stateObject}'.");
        }
        _bucket = stateObject[..slash];
        _key = stateObject[(slash + 1)..];
    }

    public string Description => $"minio-state:{_minio.Endpoint?.TrimEnd('/')}/{_bucket}/{_key}";
    public bool IsLocal => false;

    public async Task<IReadOnlyList<Guest>> GetGuestsAsync(CancellationToken cancellationToken)
    {
        MinioSettings settings;
        try
        {
            settings = MinioSettings.FromConfig(_minio, $"environments.{_environment}.minio");
        }
        catch (Exception ex) when (ex is SecretUnavailableException or ArgumentException)
        {
            throw new InventoryException($"{Description}: {ex.Message}");
        }
        var budget = TimeSpan.FromSeconds(_inventory.TimeoutSec ?? 30);
        byte[] data;
        try
        {
            using var client = new MinioStorageClient(settings);
            data = await client.DownloadAsync(_bucket, _key, MaxStateBytes, budget, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            throw new InventoryException($"{Description}: {ex.Message}");
        }
        catch (EndpointUnreachableException ex)
        {
            throw new InventoryException($"{Description}: {ex.Message}");
        }
        if (data.Length == 0) throw new InventoryException($"{Description}: the state object is empty (0 bytes).");
        return TerraformOutputReader.Read(System.Text.Encoding.UTF8.GetString(data), Description, _environment, _inventory, isState: true);
    }
}
