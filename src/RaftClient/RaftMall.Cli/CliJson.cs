using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using RaftMall.Bench;
using RaftMall.Cli.Commands;
using RaftMall.Cli.Demos;
using RaftMall.Verify;

namespace RaftMall.Cli;

/// <summary>
/// Everything <c>--json</c> prints, with serializers generated at build time: the tool is a native executable, which
/// cannot make them at run time. A type printed but missing here fails on its first use (the CLI tests print each).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, Converters = [typeof(StockLevelOutput), typeof(GlobalTransactionOutput)])]
[JsonSerializable(typeof(List<ClusterCommands.NodeView>))]
[JsonSerializable(typeof(ClusterStatus))]
[JsonSerializable(typeof(MemberList))]
[JsonSerializable(typeof(AddedNode))]
[JsonSerializable(typeof(StockLevel))]
[JsonSerializable(typeof(StockLevel[]))]
[JsonSerializable(typeof(SubmitToken))]
[JsonSerializable(typeof(Order))]
[JsonSerializable(typeof(OrderPage))]
[JsonSerializable(typeof(KvEntry))]
[JsonSerializable(typeof(PublishedMessage))]
[JsonSerializable(typeof(ConsumerPosition))]
[JsonSerializable(typeof(Subscription))]
[JsonSerializable(typeof(Subscription[]))]
[JsonSerializable(typeof(GlobalTransaction))]
[JsonSerializable(typeof(TransactionPage))]
[JsonSerializable(typeof(StoppedNodes))]
[JsonSerializable(typeof(KilledNode))]
[JsonSerializable(typeof(KilledLeader))]
[JsonSerializable(typeof(CredentialsFileOutput))]
[JsonSerializable(typeof(DeletedKey))]
[JsonSerializable(typeof(DashboardOutput))]
[JsonSerializable(typeof(BenchResult))]
[JsonSerializable(typeof(CompareBench.Report), TypeInfoPropertyName = "CompareReport")]
[JsonSerializable(typeof(FailoverBench.Report), TypeInfoPropertyName = "FailoverBenchReport")]
[JsonSerializable(typeof(List<FailoverBench.Report>), TypeInfoPropertyName = "FailoverBenchReports")]
[JsonSerializable(typeof(RecoveryBench.Report), TypeInfoPropertyName = "RecoveryReport")]
[JsonSerializable(typeof(TxnBench.Report), TypeInfoPropertyName = "TxnBenchReport")]
[JsonSerializable(typeof(MessageBench.Report), TypeInfoPropertyName = "MessageBenchReport")]
[JsonSerializable(typeof(VerifyReport))]
[JsonSerializable(typeof(FailoverDemo.Report), TypeInfoPropertyName = "FailoverDemoReport")]
[JsonSerializable(typeof(FailoverDemo.TimelineEntry), TypeInfoPropertyName = "FailoverDemoTimelineEntry")]
[JsonSerializable(typeof(FailoverDemo.TimelineEntry[]), TypeInfoPropertyName = "FailoverDemoTimeline")]
[JsonSerializable(typeof(TxnDemoReport))]
[JsonSerializable(typeof(MessagesDemo.Report), TypeInfoPropertyName = "MessagesDemoReport")]
[JsonSerializable(typeof(TxnDemoReport.TimelineEntry), TypeInfoPropertyName = "TxnDemoTimelineEntry")]
[JsonSerializable(typeof(TxnDemoReport.TimelineEntry[]), TypeInfoPropertyName = "TxnDemoTimeline")]
internal sealed partial class CliJsonContext : JsonSerializerContext;

/// <summary><c>cluster down</c>: the nodes it stopped.</summary>
public sealed record StoppedNodes(IReadOnlyList<string> Stopped);

/// <summary><c>cluster add-node</c>: the node started, its address and pid, and the members after it was added.</summary>
public sealed record AddedNode(string Node, string Address, int Pid, MemberList Members);

/// <summary><c>cluster kill</c>: the node, and whether it ran.</summary>
public sealed record KilledNode(string Node, bool Killed);

/// <summary><c>cluster kill-leader</c>: the leader killed and its term.</summary>
public sealed record KilledLeader(string Killed, long Term);

/// <summary><c>cluster credentials</c>: where the file is, whether it was just made, and its keys' names and roles.</summary>
public sealed record CredentialsFileOutput(string Path, bool Created, IReadOnlyList<CredentialsFileOutput.Key> Keys)
{
    public sealed record Key(string Name, string Role);
}

/// <summary><c>kv delete</c>: the key deleted.</summary>
public sealed record DeletedKey(string Deleted);

/// <summary><c>demo dashboard</c>: the page's address (with its key) and the nodes.</summary>
public sealed record DashboardOutput(string Dashboard, IReadOnlyList<ClusterCommands.NodeView> Nodes);

/// <summary>
/// The tool's --json also shows the fields the contract derives and keeps off the wire (a sku's total, whether a
/// transaction is decided and finished), as it always has: the contract's own JSON, with those appended.
/// </summary>
internal abstract class WithDerivedFields<T>(JsonTypeInfo<T> contract) : JsonConverter<T>
{
    public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonSerializer.Deserialize(ref reader, contract);

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        var json = JsonSerializer.SerializeToNode(value, contract)!.AsObject();
        AddDerived(value, json);
        json.WriteTo(writer);
    }

    protected abstract void AddDerived(T value, JsonObject json);
}

internal sealed class StockLevelOutput() : WithDerivedFields<StockLevel>(ContractJsonContext.Default.StockLevel)
{
    protected override void AddDerived(StockLevel value, JsonObject json) => json["total"] = value.Total;
}

internal sealed class GlobalTransactionOutput() : WithDerivedFields<GlobalTransaction>(ContractJsonContext.Default.GlobalTransaction)
{
    protected override void AddDerived(GlobalTransaction value, JsonObject json)
    {
        json["isDecided"] = value.IsDecided;
        json["isFinished"] = value.IsFinished;
    }
}
