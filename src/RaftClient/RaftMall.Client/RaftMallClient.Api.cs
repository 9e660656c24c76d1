using RaftMall.Contract;

namespace RaftMall.Client;

// One method per API call of api.md.
public sealed partial class RaftMallClient
{
    /// <summary>Sets a sku's available count, creating the sku when it is new (admin role; 400 <c>validation</c> outside 0..1,000,000,000).</summary>
    /// <param name="sku">The sku (1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>).</param>
    /// <param name="available">The new available count; locked and sold stay as they are.</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    /// <returns>The sku's stock after the write.</returns>
    public async Task<StockLevel> SetStockAsync(string sku, long available, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<StockLevel>(await SendAsync(HttpMethod.Put, $"/api/stock/{Uri.EscapeDataString(sku)}", new StockRequest(available), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Reads one sku's stock; an unknown sku throws <see cref="RaftMallNotFoundException"/> (404 <c>unknown_sku</c>).</summary>
    /// <param name="sku">The sku.</param>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<StockLevel> GetStockAsync(string sku, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken token = default) =>
        await ReadAsync<StockLevel>(await SendAsync(HttpMethod.Get, $"/api/stock/{Uri.EscapeDataString(sku)}?{Query(consistency)}", null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Reads the stock of every sku.</summary>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="node">The one node to ask, retried without failover; null asks the preferred node and fails over.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<StockLevel[]> ListStockAsync(ReadConsistency consistency = ReadConsistency.Linearizable, Uri? node = null, CancellationToken token = default) =>
        await ReadAsync<StockLevel[]>(await SendAsync(HttpMethod.Get, $"/api/stock?{Query(consistency)}", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Issues a submit token for the user's next order, valid for 15 minutes (pass it to <see cref="PlaceOrderAsync"/>).</summary>
    /// <param name="userId">The user the token is for.</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<SubmitToken> IssueTokenAsync(string userId, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<SubmitToken>(await SendAsync(HttpMethod.Post, "/api/orders/tokens", new TokenRequest(userId), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Places an order; locks stock for every line or none. Pass the submit token to protect against double submits.</summary>
    /// <param name="userId">The user placing the order.</param>
    /// <param name="items">The lines: 1..50, each sku at most once, 1..10,000 units each.</param>
    /// <param name="submitToken">A token from <see cref="IssueTokenAsync"/> for the same user, consumed by this order (409 <c>token_used</c> / <c>token_invalid</c>); null for no double-submit protection.</param>
    /// <param name="ttlSeconds">Seconds until the pending order expires and releases its stock, 1..604,800 (900 when null).</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    /// <returns>The pending order; 409 <c>insufficient_stock</c> and 404 <c>unknown_sku</c> throw instead, and nothing is locked.</returns>
    public async Task<Order> PlaceOrderAsync(string userId, IEnumerable<OrderLine> items, string? submitToken = null, int? ttlSeconds = null, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<Order>(await SendAsync(HttpMethod.Post, "/api/orders", new PlaceOrderRequest(userId, submitToken, [.. items.Select(i => i.ToRequest())], ttlSeconds), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Pays a pending order: its locked stock becomes sold (409 <c>order_not_pending</c> otherwise, 404 <c>order_not_found</c>).</summary>
    /// <param name="orderId">The order's id.</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    /// <returns>The order, status paid.</returns>
    public async Task<Order> PayOrderAsync(long orderId, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<Order>(await SendAsync(HttpMethod.Post, $"/api/orders/{orderId}/pay", null, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Cancels a pending order: its locked stock becomes available again (409 <c>order_not_pending</c> otherwise, 404 <c>order_not_found</c>).</summary>
    /// <param name="orderId">The order's id.</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    /// <returns>The order, status cancelled.</returns>
    public async Task<Order> CancelOrderAsync(long orderId, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<Order>(await SendAsync(HttpMethod.Post, $"/api/orders/{orderId}/cancel", null, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Reads one order; an unknown id throws <see cref="RaftMallNotFoundException"/> (404 <c>order_not_found</c>).</summary>
    /// <param name="orderId">The order's id.</param>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="node">The one node to ask, retried without failover; null asks the preferred node and fails over.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<Order> GetOrderAsync(long orderId, ReadConsistency consistency = ReadConsistency.Linearizable, Uri? node = null, CancellationToken token = default) =>
        await ReadAsync<Order>(await SendAsync(HttpMethod.Get, $"/api/orders/{orderId}?{Query(consistency)}", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Reads one page of orders by ascending id; pass <see cref="OrderPage.NextAfter"/> as <paramref name="after"/> for the next.</summary>
    /// <param name="userId">Only this user's orders; null for every user's.</param>
    /// <param name="status">Only orders of this status (pending, paid, cancelled or expired); null for all.</param>
    /// <param name="after">Only orders with a greater id (0: from the first).</param>
    /// <param name="limit">Most orders on the page, 1..1,000.</param>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="node">The one node to ask, retried without failover; null asks the preferred node and fails over.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<OrderPage> ListOrdersAsync(string? userId = null, string? status = null, long after = 0, int limit = 100,
        ReadConsistency consistency = ReadConsistency.Linearizable, Uri? node = null, CancellationToken token = default)
    {
        var query = $"after={after}&limit={limit}&{Query(consistency)}";
        if (userId is not null) query += "&userId=" + Uri.EscapeDataString(userId);
        if (status is not null) query += "&status=" + Uri.EscapeDataString(status);
        return await ReadAsync<OrderPage>(await SendAsync(HttpMethod.Get, "/api/orders?" + query, null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);
    }

    /// <summary>Every order, page by page (from one node when <paramref name="node"/> is given).</summary>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="node">The one node to ask, retried without failover; null asks the preferred node and fails over.</param>
    /// <param name="token">Cancels the enumeration, its retries included.</param>
    public async IAsyncEnumerable<Order> AllOrdersAsync(ReadConsistency consistency = ReadConsistency.Linearizable, Uri? node = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken token = default)
    {
        long after = 0;
        while (true)
        {
            var page = await ListOrdersAsync(after: after, limit: 1_000, consistency: consistency, node: node, token: token).ConfigureAwait(false);
            foreach (var order in page.Orders) yield return order;
            if (page.NextAfter is not { } next) yield break;
            after = next;
        }
    }

    /// <summary>Puts a value; with <paramref name="expectedRevision"/> only if the key is at that revision (0: only if absent).</summary>
    /// <param name="key">The key (1..256 characters, no control characters; <c>/</c> separates path segments).</param>
    /// <param name="value">The value, at most 65,536 characters.</param>
    /// <param name="expectedRevision">The revision the key must be at, sent as <c>If-Match</c>; another throws <see cref="RaftMallConflictException"/> (412 <c>revision_mismatch</c>).</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    /// <returns>The key with its new revision.</returns>
    public async Task<KvEntry> PutAsync(string key, string value, long? expectedRevision = null, string? idempotencyKey = null, CancellationToken token = default)
    {
        var path = "/api/kv/" + EscapeKey(key);
        if (expectedRevision is null) return await ReadAsync<KvEntry>(await SendAsync(HttpMethod.Put, path, new KvPutRequest(value), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);
        return await ReadAsync<KvEntry>(await SendIfMatchAsync(HttpMethod.Put, path, new KvPutRequest(value), expectedRevision.Value, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);
    }

    /// <summary>Reads a key; with <paramref name="node"/>, from that node only (no failover).</summary>
    /// <param name="key">The key; an absent one throws <see cref="RaftMallNotFoundException"/> (404 <c>key_not_found</c>).</param>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="node">The one node to ask, retried without failover; null asks the preferred node and fails over.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<KvEntry> GetAsync(string key, ReadConsistency consistency = ReadConsistency.Linearizable, Uri? node = null, CancellationToken token = default) =>
        await ReadAsync<KvEntry>(await SendAsync(HttpMethod.Get, $"/api/kv/{EscapeKey(key)}?{Query(consistency)}", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Deletes a key; an absent one throws <see cref="RaftMallNotFoundException"/> (404 <c>key_not_found</c>).</summary>
    /// <param name="key">The key.</param>
    /// <param name="expectedRevision">The revision the key must be at, sent as <c>If-Match</c>; another throws <see cref="RaftMallConflictException"/> (412 <c>revision_mismatch</c>).</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task DeleteAsync(string key, long? expectedRevision = null, string? idempotencyKey = null, CancellationToken token = default)
    {
        var path = "/api/kv/" + EscapeKey(key);
        var response = expectedRevision is null
            ? await SendAsync(HttpMethod.Delete, path, null, idempotencyKey, token).ConfigureAwait(false)
            : await SendIfMatchAsync(HttpMethod.Delete, path, null, expectedRevision.Value, idempotencyKey, token).ConfigureAwait(false);
        response.Dispose();
    }

    /// <summary>Reads the outbox after a sequence number (linearizable), long-polling up to <paramref name="waitSeconds"/> when nothing is new.</summary>
    /// <param name="after">Only events with a greater sequence (0: from the oldest retained).</param>
    /// <param name="limit">Most events on the page, 1..1,000.</param>
    /// <param name="waitSeconds">Seconds to wait for a new event, 0..30; each attempt may take this long on top of <see cref="RaftMallClientOptions.AttemptTimeout"/>.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<EventPage> ReadEventsAsync(long after = 0, int limit = 100, int waitSeconds = 0, CancellationToken token = default) =>
        await ReadAsync<EventPage>(await SendAsync(HttpMethod.Get, $"/api/events?after={after}&limit={limit}&waitSeconds={waitSeconds}", null, null, token,
            serverWait: TimeSpan.FromSeconds(Math.Max(0, waitSeconds))).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>The members of the active configuration as one node knows them; without <paramref name="node"/>, the first node that answers.</summary>
    /// <param name="node">The one node to ask, retried without failover; null asks the preferred node and fails over.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<MemberList> ListMembersAsync(Uri? node = null, CancellationToken token = default) =>
        await ReadAsync<MemberList>(await SendAsync(HttpMethod.Get, "/api/cluster/members", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>
    /// Adds the running node at <paramref name="address"/> (started to join, waiting to be added) as a member: the
    /// leader catches it up, then commits the new configuration. One change at a time: a concurrent one throws
    /// <see cref="RaftMallConflictException"/> (409 <c>membership_change_in_progress</c>); a node that does not answer or
    /// does not catch up throws <see cref="RaftMallValidationException"/> (422 <c>member_unreachable</c>,
    /// <c>member_not_caught_up</c>). Adding a member again changes nothing (<see cref="MemberList.Changed"/> false).
    /// </summary>
    /// <param name="address">The node's base address, e.g. http://127.0.0.1:7104.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<MemberList> AddMemberAsync(Uri address, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        return await ReadAsync<MemberList>(await SendAsync(HttpMethod.Post, "/api/cluster/members", new MemberRequest(address.GetLeftPart(UriPartial.Authority)), null, token,
            serverWait: MembershipChangeWait).ConfigureAwait(false), token).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes a member, named by its id or host:port. Removing the leader makes it resign first (503
    /// <c>leader_resigned</c>, retried here like any 503), so the next leader removes it. An unknown member throws
    /// <see cref="RaftMallNotFoundException"/> (404 <c>unknown_member</c>).
    /// </summary>
    /// <param name="member">The member's id (e.g. n4) or host:port.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<MemberList> RemoveMemberAsync(string member, CancellationToken token = default) =>
        await ReadAsync<MemberList>(await SendAsync(HttpMethod.Delete, $"/api/cluster/members/{Uri.EscapeDataString(member)}", null, null, token,
            serverWait: MembershipChangeWait).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>How long a membership change may take on the leader (catching a new node up), on top of an attempt's timeout.</summary>
    private static readonly TimeSpan MembershipChangeWait = TimeSpan.FromSeconds(30);

    /// <summary>One node's view of the cluster; without <paramref name="node"/>, the first node that answers.</summary>
    /// <param name="node">The one node to ask, retried without failover; null asks the preferred node and fails over.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<ClusterStatus> GetClusterStatusAsync(Uri? node = null, CancellationToken token = default) =>
        await ReadAsync<ClusterStatus>(await SendAsync(HttpMethod.Get, "/api/cluster", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>
    /// One node's status within <paramref name="timeout"/>, no retries; null when it does not answer. For probes and
    /// tools. <paramref name="trustedCertificatesFile"/> is the CA to trust for an https:// node, as in the options.
    /// </summary>
    /// <param name="node">The node to ask.</param>
    /// <param name="apiKey">The API key to send; null sends none.</param>
    /// <param name="timeout">The longest wait for the answer.</param>
    /// <param name="trustedCertificatesFile">PEM certificates to trust besides the system's roots; null for none.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public static async Task<ClusterStatus?> TryGetClusterStatusAsync(Uri node, string? apiKey, TimeSpan timeout, string? trustedCertificatesFile = null, CancellationToken token = default)
    {
        using var quick = new RaftMallClient(new RaftMallClientOptions
        {
            Endpoints = [node],
            ApiKey = apiKey,
            AttemptTimeout = timeout,
            RetryBudget = TimeSpan.Zero,
            TrustedCertificatesFile = trustedCertificatesFile,
        });
        try
        {
            return await quick.GetClusterStatusAsync(node, token).ConfigureAwait(false);
        }
        catch (RaftMallException)
        {
            return null;
        }
    }

    /// <summary>Reads a hash of one node's whole state to compare replicas; O(state) on the node, so not for frequent polling.</summary>
    /// <param name="node">The node whose state is hashed.</param>
    /// <param name="consistency">Local (the default) hashes what the node has applied; Linearizable first catches up with the leader's commit index.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<StateHash> GetStateHashAsync(Uri node, ReadConsistency consistency = ReadConsistency.Local, CancellationToken token = default) =>
        await ReadAsync<StateHash>(await SendAsync(HttpMethod.Get, $"/api/cluster/state-hash?{Query(consistency)}", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>The hashes <paramref name="node"/> took of its state at the log's check points (its own record: no read barrier).</summary>
    public async Task<StateChecks> GetStateChecksAsync(Uri node, CancellationToken token = default) =>
        await ReadAsync<StateChecks>(await SendAsync(HttpMethod.Get, "/api/cluster/state-checks", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    private Task<HttpResponseMessage> SendIfMatchAsync(HttpMethod method, string path, object? body, long revision, string? idempotencyKey, CancellationToken token) =>
        SendAsync(method, path, body, idempotencyKey, token, ifMatch: revision);

    private static string EscapeKey(string key) => string.Join('/', key.Split('/').Select(Uri.EscapeDataString));
}
