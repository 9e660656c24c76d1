namespace RaftMall.Contract;

/// <summary>What a client may do; each role includes the ones below it.</summary>
public enum ClientRole
{
    /// <summary>Reads: stock, orders, kv, events, cluster status and state hash.</summary>
    Reader = 1,

    /// <summary>Reads, plus orders, submit tokens, kv writes and transactions.</summary>
    Writer = 2,

    /// <summary>Everything: also stock and cluster operations (e.g. retrying a transaction as the operator).</summary>
    Admin = 3,
}
