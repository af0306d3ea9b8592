namespace PveHealth.Configuration;

/// <summary>A configuration that cannot be used. The message names the file, the JSON path and what was expected.</summary>
public sealed class ConfigException : EngineException
{
    public ConfigException(string path, string jsonPath, string message, Exception? inner = null)
        : base(EngineFailure.ConfigInvalid, Format(path, jsonPath, message), path, inner)
    {
        FilePath = path;
        JsonPath = jsonPath;
        Reason = message;
    }

    /// <summary>What is wrong, without the file and JSON path.</summary>
    public string Reason { get; }

    public string FilePath { get; }
    public string JsonPath { get; }

    private static string Format(string path, string jsonPath, string message)
        => string.IsNullOrEmpty(jsonPath) ? $"{path}: {message}" : $"{path}: {jsonPath}: {message}";
}
