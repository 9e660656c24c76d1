using YamlDotNet.Serialization;

namespace RaftMall.Configuration;

/// <summary>The cluster file's YAML model, with (de)serializers generated at build time instead of found by reflection.</summary>
[YamlStaticContext]
[YamlSerializable(typeof(ClusterFile))]
[YamlSerializable(typeof(ClusterNode))]
[YamlSerializable(typeof(ApiKeyEntry))]
public sealed partial class ClusterYamlContext : StaticContext;
