using RaftMall.StateMachine.Codec;

namespace RaftMall.StateMachine;

// The whole-state snapshot: "RMSN" version(1) sections... checksum(everything before it): XxHash3 (64-bit) since
// version 4, FNV-1a 64 in version 3 (same sections; still read). FNV-1a hashes one byte at a time and took 60 % of the
// time of writing a 26 MiB snapshot of 100,000 kv keys; XxHash3 is vectorized.
// Tables are written in a canonical order (sorted keys, order ids, log order), never in dictionary order,
// so two replicas with the same history write byte-identical snapshots.
public sealed partial class MallStateMachine
{
    // 2: transaction branches with kinds, attempts, errors, stuck flags; 3: finish times; 4: XxHash3 checksum;
    // 5: message events with their payload, and the consumer positions (a section after the events);
    // 6: push subscriptions with their progress (a section after the consumers);
    // 7: the member directory's identities (address, member id), a section after the subscriptions.
    public const byte SnapshotVersion = 7;

    /// <summary>
    /// The oldest version <see cref="Restore"/> reads: version 3 differs from 4 only in its checksum, 4 from 5 in having
    /// no messages and no consumers, 5 from 6 in having no subscriptions, 6 from 7 in having no member identities (the
    /// leader binds them again).
    /// </summary>
    public const byte OldestReadableSnapshotVersion = 3;
    private static ReadOnlySpan<byte> SnapshotMagic => "RMSN"u8;

    public byte[] Snapshot()
    {
        var w = new ByteWriter(4096 + (_orders.Count * 48));
        WriteSnapshot(w);
        return w.ToArray();
    }

    /// <summary>Writes the snapshot into <paramref name="w"/> (cleared first).</summary>
    /// <remarks>
    /// Optimized from its first call: a node takes a snapshot every 100,000 writes, too rarely for tiered compilation
    /// to promote this method, and the node's applying waits for it.
    /// </remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void WriteSnapshot(ByteWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.Clear();
        w.WriteBytes(SnapshotMagic);
        w.WriteByte(SnapshotVersion);
        w.WriteVarInt(LogTimeMs);
        w.WriteVarInt(KvRevision);

        w.WriteVarUInt((ulong)_stock.Count);
        foreach (var sku in SortedKeys(_stock))
        {
            var s = _stock[sku];
            w.WriteString(s.Sku);
            w.WriteVarInt(s.Available);
            w.WriteVarInt(s.Locked);
            w.WriteVarInt(s.Sold);
        }

        w.WriteVarUInt((ulong)_tokens.Count);
        foreach (var value in SortedKeys(_tokens))
        {
            var t = _tokens[value];
            w.WriteString(t.Token);
            w.WriteString(t.UserId);
            w.WriteVarInt(t.ExpiresAtMs);
            w.WriteVarInt(t.UsedByOrderId);
        }

        w.WriteVarUInt((ulong)_orders.Count);
        foreach (var order in _orders) ResultCodec.WriteOrderBody(w, order);

        w.WriteVarUInt((ulong)_kv.Count);
        foreach (var key in SortedKeys(_kv)) ResultCodec.WriteKv(w, _kv[key]);

        w.WriteVarUInt((ulong)_transactions.Count);
        foreach (var gid in SortedKeys(_transactions)) ResultCodec.WriteTransaction(w, _transactions[gid]);

        w.WriteVarUInt((ulong)_soldByStockBranches.Count);
        foreach (var sku in SortedKeys(_soldByStockBranches))
        {
            w.WriteString(sku);
            w.WriteVarInt(_soldByStockBranches[sku]);
        }

        var barriers = _barriers.Keys.ToArray();
        Array.Sort(barriers, static (a, b) =>
        {
            var byGid = string.CompareOrdinal(a.Gid, b.Gid);
            return byGid != 0 ? byGid : string.CompareOrdinal(a.BranchId, b.BranchId);
        });
        w.WriteVarUInt((ulong)barriers.Length);
        foreach (var key in barriers)
        {
            w.WriteString(key.Gid);
            w.WriteString(key.BranchId);
            w.WriteByte((byte)_barriers[key]);
        }

        w.WriteVarUInt((ulong)_idempotencyByAge.Count);
        foreach (var record in _idempotencyByAge)
        {
            w.WriteString(record.Key);
            w.WriteUInt64(record.Fingerprint);
            w.WriteVarInt(record.AtMs);
            ResultCodec.Write(w, record.Result);
        }

        w.WriteVarInt(_events.NextSequence);
        w.WriteVarUInt((ulong)_events.Count);
        foreach (var e in _events.All()) ResultCodec.WriteEventBody(w, e, withPayload: true);

        w.WriteVarUInt((ulong)_consumers.Count);
        foreach (var consumer in ListConsumers())
        {
            w.WriteString(consumer.Name);
            w.WriteVarInt(consumer.Sequence);
            w.WriteVarInt(consumer.UpdatedAtMs);
        }

        w.WriteVarUInt((ulong)_subscriptions.Count);
        foreach (var subscription in ListSubscriptions()) ResultCodec.WriteSubscription(w, subscription);

        w.WriteVarUInt((ulong)_memberIds.Count);
        foreach (var address in SortedKeys(_memberIds))
        {
            w.WriteString(address);
            w.WriteString(_memberIds[address]);
        }

        w.WriteUInt64(Checksum(SnapshotVersion, w.WrittenSpan));
    }

    /// <summary>The checksum a snapshot of <paramref name="version"/> ends with, over everything before it.</summary>
    internal static ulong Checksum(byte version, ReadOnlySpan<byte> body) =>
        version == 3 ? Fnv1a64.Hash(body) : System.IO.Hashing.XxHash3.HashToUInt64(body);

    /// <summary>A 64-bit hash of the whole state: the snapshot's own checksum, equal on replicas that applied the same commands.</summary>
    public ulong StateHash() => StateHash(new ByteWriter(4096 + (_orders.Count * 48)));

    /// <summary><see cref="StateHash()"/>, serializing into <paramref name="buffer"/> (cleared first) instead of a new one.</summary>
    public ulong StateHash(ByteWriter buffer)
    {
        WriteSnapshot(buffer);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(buffer.WrittenSpan[^8..]);
    }

    /// <summary>
    /// Checks a snapshot's frame without decoding it: length, magic, a readable version and the checksum over the whole
    /// body. Returns why the bytes are not an intact snapshot, or null when they are. A file cut short anywhere fails
    /// here, because the checksum is the last eight bytes.
    /// </summary>
    public static string? CheckSnapshotFrame(ReadOnlySpan<byte> snapshot)
    {
        if (snapshot.Length < SnapshotMagic.Length + 1 + 8) return "snapshot is truncated";
        if (!snapshot.StartsWith(SnapshotMagic)) return "not a RaftMall snapshot (bad magic)";
        var version = snapshot[SnapshotMagic.Length];
        if (version is < OldestReadableSnapshotVersion or > SnapshotVersion) return $"unknown snapshot version {version}";
        var stored = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(snapshot[^8..]);
        return Checksum(version, snapshot[..^8]) == stored ? null : "snapshot checksum mismatch: the bytes are corrupt";
    }

    /// <summary>
    /// Builds a state machine from snapshot bytes. Any malformed input raises <see cref="MallCodecException"/>;
    /// the caller's current state is untouched because a new instance is built.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static MallStateMachine Restore(ReadOnlySpan<byte> snapshot, int retainedEvents = MallLimits.DefaultRetainedEvents)
    {
        if (CheckSnapshotFrame(snapshot) is { } damage) throw new MallCodecException(damage);
        var body = snapshot[..^8];

        var state = new MallStateMachine(retainedEvents);
        try
        {
            var r = new SpanReader(body[(SnapshotMagic.Length + 1)..]);
            state.ReadSnapshotBody(ref r, version: snapshot[SnapshotMagic.Length]);
            r.EnsureEnd();
            state.CheckInvariants();
        }
        catch (InvariantViolationException e)
        {
            throw new MallCodecException("snapshot decodes to a state that breaks an invariant: " + e.Message, e);
        }
        catch (ArgumentException e)
        {
            throw new MallCodecException("snapshot holds a duplicate or invalid entry: " + e.Message, e);
        }
        return state;
    }

    private void ReadSnapshotBody(ref SpanReader r, byte version)
    {
        const int maxIdBytes = ResultCodec.MaxIdBytes;
        var pool = new HashSet<string>(StringComparer.Ordinal);
        LogTimeMs = r.ReadVarInt();
        KvRevision = r.ReadVarInt();

        for (var n = r.ReadCount(int.MaxValue); n > 0; n--)
        {
            var s = new StockCounts(r.ReadPooledString(maxIdBytes, pool)) { Available = r.ReadVarInt(), Locked = r.ReadVarInt(), Sold = r.ReadVarInt() };
            _stock.Add(s.Sku, s);
        }

        for (var n = r.ReadCount(int.MaxValue); n > 0; n--)
        {
            var t = new SubmitToken(r.ReadString(maxIdBytes), r.ReadPooledString(maxIdBytes, pool), r.ReadVarInt()) { UsedByOrderId = r.ReadVarInt() };
            _tokens.Add(t.Token, t);
            _tokenExpiry.Enqueue(t, (t.ExpiresAtMs, t.Token));
        }

        var orderCount = r.ReadCount(int.MaxValue);
        _orders.Capacity = orderCount;
        for (var id = 1L; id <= orderCount; id++)
        {
            var order = ResultCodec.ReadOrderBody(ref r, id, pool);
            _orders.Add(order);
            IndexOrder(order);
        }

        for (var n = r.ReadCount(int.MaxValue); n > 0; n--)
        {
            var entry = ResultCodec.ReadKv(ref r);
            _kv.Add(entry.Key, entry);
        }

        for (var n = r.ReadCount(int.MaxValue); n > 0; n--)
        {
            var txn = ResultCodec.ReadTransaction(ref r);
            if (_transactions.ContainsKey(txn.Gid)) throw new MallCodecException($"transaction {txn.Gid} appears twice");
            Store(txn);
            if (txn.IsDecided) continue;
            _openByDeadline.Add((txn.DeadlineMs, txn.Gid));
            foreach (var branch in txn.Branches)
            {
                if (branch.OrderId != 0) _heldOrders.Add(branch.OrderId);
            }
        }

        for (var n = r.ReadCount(int.MaxValue); n > 0; n--)
        {
            _soldByStockBranches.Add(r.ReadPooledString(maxIdBytes, pool), r.ReadVarInt());
        }

        for (var n = r.ReadCount(int.MaxValue); n > 0; n--)
        {
            _barriers.Add((r.ReadString(maxIdBytes), r.ReadString(maxIdBytes)), r.ReadEnum<BarrierState>());
        }

        for (var n = r.ReadCount(int.MaxValue); n > 0; n--)
        {
            var record = new IdempotencyRecord(r.ReadString(MallLimits.MaxIdempotencyKeyLength * 4), r.ReadUInt64(), r.ReadVarInt(), ResultCodec.Read(ref r, pool));
            Remember(record);
        }

        var nextSequence = r.ReadVarInt();
        var events = new List<MallEvent>(r.ReadCount(int.MaxValue));
        var firstSequence = nextSequence - events.Capacity;
        if (firstSequence < 1) throw new MallCodecException("event sequence starts before 1");
        var hasMessages = version >= 5;
        for (var i = 0; i < events.Capacity; i++) events.Add(ResultCodec.ReadEventBody(ref r, firstSequence + i, hasMessages));
        _events.Restore(events, nextSequence);

        if (!hasMessages) return; // versions 3 and 4 end here: no consumers yet
        for (var n = r.ReadCount(MallLimits.MaxConsumers); n > 0; n--)
        {
            var consumer = new ConsumerPosition(r.ReadString(maxIdBytes), r.ReadVarInt(), r.ReadVarInt());
            _consumers.Add(consumer.Name, consumer);
        }

        if (version < 6) return; // version 5 ends here: no subscriptions yet
        for (var n = r.ReadCount(MallLimits.MaxSubscriptions); n > 0; n--)
        {
            var subscription = ResultCodec.ReadSubscription(ref r);
            _subscriptions.Add(subscription.Name, subscription);
        }

        if (version < 7) return; // version 6 ends here: no member identities yet
        for (var n = r.ReadCount(MallLimits.MaxMemberAddresses); n > 0; n--)
        {
            var address = r.ReadString(MallLimits.MaxMemberAddressLength * 4);
            if (!_memberIds.TryAdd(address, r.ReadString(maxIdBytes))) throw new MallCodecException($"member address {address} appears twice");
        }
    }

    private static string[] SortedKeys<TValue>(Dictionary<string, TValue> table)
    {
        var keys = table.Keys.ToArray();
        Array.Sort(keys, StringComparer.Ordinal);
        return keys;
    }
}
