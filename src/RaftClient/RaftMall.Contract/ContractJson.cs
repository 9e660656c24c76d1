using System.Text.Json;
using System.Text.Json.Serialization;

namespace RaftMall.Contract;

/// <summary>
/// Source-generated JSON metadata for every message body of the contract, with the web defaults (camelCase names,
/// case-insensitive reading): what clients and tools serialize with, including native AOT builds that cannot
/// generate serializers at run time. <c>ContractJsonContext.Default.Options</c> are the options to pass (read-only).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StockRequest))]
[JsonSerializable(typeof(TokenRequest))]
[JsonSerializable(typeof(PlaceOrderRequest))]
[JsonSerializable(typeof(KvPutRequest))]
[JsonSerializable(typeof(StockLevel))]
[JsonSerializable(typeof(StockLevel[]))]
[JsonSerializable(typeof(SubmitToken))]
[JsonSerializable(typeof(Order))]
[JsonSerializable(typeof(OrderPage))]
[JsonSerializable(typeof(KvEntry))]
[JsonSerializable(typeof(MallEvent))]
[JsonSerializable(typeof(EventPage))]
[JsonSerializable(typeof(ClusterStatus))]
[JsonSerializable(typeof(StateHash))]
[JsonSerializable(typeof(StateChecks))]
[JsonSerializable(typeof(MemberRequest))]
[JsonSerializable(typeof(MemberList))]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(TransactionRequest))]
[JsonSerializable(typeof(GlobalTransaction))]
[JsonSerializable(typeof(TransactionPage))]
[JsonSerializable(typeof(MessageRequest))]
[JsonSerializable(typeof(PlaceOrderWithMessageRequest))]
[JsonSerializable(typeof(PublishedMessage))]
[JsonSerializable(typeof(OrderWithMessage))]
[JsonSerializable(typeof(ConsumerAckRequest))]
[JsonSerializable(typeof(ConsumerPosition))]
[JsonSerializable(typeof(ConsumerPosition[]))]
[JsonSerializable(typeof(SubscriptionRequest))]
[JsonSerializable(typeof(SubscriptionResumeRequest))]
[JsonSerializable(typeof(Subscription))]
[JsonSerializable(typeof(Subscription[]))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(string))]
public sealed partial class ContractJsonContext : JsonSerializerContext;
