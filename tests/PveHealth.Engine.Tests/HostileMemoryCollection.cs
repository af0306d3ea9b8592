using Xunit;

namespace PveHealth.Tests;

[CollectionDefinition("hostile-memory", DisableParallelization = true)]
public class HostileMemoryCollection;
