namespace RaftMall.StateMachine.Codec;

/// <summary>Binary encoding of results (kept with idempotency keys in snapshots) and of the records they carry.</summary>
internal static class ResultCodec
{
    internal const int MaxIdBytes = MallLimits.MaxIdLength * 4;
    internal const int MaxTextBytes = MallLimits.MaxEncodedCommandBytes;

    private enum Tag : byte
    {
        Rejected = 1,
        Stock = 2,
        Token = 3,
        Order = 4,
        Expire = 5,
        Kv = 6,
        KvDeleted = 7,
        Transaction = 8,
        Barrier = 9,
        PhaseTwo = 10,
        Message = 11,
        OrderWithMessage = 12,
        Consumer = 13,
        Subscription = 14,
        SubscriptionProgress = 15,
        MemberBound = 16,
        StateChecked = 17,
    }

    public static void Write(ByteWriter w, MallResult result)
    {
        switch (result)
        {
            case Rejected r:
                w.WriteByte((byte)Tag.Rejected);
                w.WriteByte((byte)r.Code);
                w.WriteString(r.Detail);
                break;
            case StockResult r:
                w.WriteByte((byte)Tag.Stock);
                w.WriteString(r.Stock.Sku);
                w.WriteVarInt(r.Stock.Available);
                w.WriteVarInt(r.Stock.Locked);
                w.WriteVarInt(r.Stock.Sold);
                break;
            case TokenResult r:
                w.WriteByte((byte)Tag.Token);
                w.WriteString(r.Token);
                w.WriteString(r.UserId);
                w.WriteVarInt(r.ExpiresAtMs);
                break;
            case OrderResult r:
                w.WriteByte((byte)Tag.Order);
                w.WriteVarInt(r.Order.OrderId);
                WriteOrderBody(w, r.Order);
                break;
            case ExpireResult r:
                w.WriteByte((byte)Tag.Expire);
                w.WriteVarInt(r.OrdersExpired);
                w.WriteVarInt(r.TransactionsAborted);
                w.WriteVarInt(r.TokensForgotten);
                break;
            case KvResult r:
                w.WriteByte((byte)Tag.Kv);
                WriteKv(w, r.Entry);
                break;
            case KvDeleted r:
                w.WriteByte((byte)Tag.KvDeleted);
                w.WriteString(r.Key);
                w.WriteVarInt(r.Revision);
                break;
            case TransactionResult r:
                w.WriteByte((byte)Tag.Transaction);
                WriteTransaction(w, r.Transaction);
                break;
            case BarrierResult r:
                w.WriteByte((byte)Tag.Barrier);
                w.WriteString(r.Gid);
                w.WriteString(r.BranchId);
                w.WriteByte((byte)r.State);
                w.WriteBool(r.Effective);
                break;
            case PhaseTwoResult r:
                w.WriteByte((byte)Tag.PhaseTwo);
                w.WriteVarInt(r.Acknowledged);
                w.WriteVarInt(r.Failed);
                w.WriteVarInt(r.Finished);
                break;
            case MessageResult r:
                w.WriteByte((byte)Tag.Message);
                WriteEvent(w, r.Message);
                break;
            case OrderWithMessageResult r:
                w.WriteByte((byte)Tag.OrderWithMessage);
                w.WriteVarInt(r.Order.OrderId);
                WriteOrderBody(w, r.Order);
                WriteEvent(w, r.Message);
                break;
            case ConsumerResult r:
                w.WriteByte((byte)Tag.Consumer);
                w.WriteString(r.Consumer.Name);
                w.WriteVarInt(r.Consumer.Sequence);
                w.WriteVarInt(r.Consumer.UpdatedAtMs);
                break;
            case SubscriptionResult r:
                w.WriteByte((byte)Tag.Subscription);
                WriteSubscription(w, r.Subscription);
                break;
            case SubscriptionProgressResult r:
                w.WriteByte((byte)Tag.SubscriptionProgress);
                w.WriteVarInt(r.Recorded);
                w.WriteVarInt(r.Ignored);
                break;
            case MemberBound r:
                w.WriteByte((byte)Tag.MemberBound);
                w.WriteString(r.Address);
                w.WriteString(r.MemberId);
                break;
            case StateChecked:
                w.WriteByte((byte)Tag.StateChecked);
                break;
            default:
                throw new ArgumentException($"unknown result type {result.GetType().Name}", nameof(result));
        }
    }

    public static MallResult Read(ref SpanReader r, HashSet<string> pool) => r.ReadEnum<Tag>() switch
    {
        Tag.Rejected => new Rejected(r.ReadEnum<ErrorCode>(), r.ReadString(MaxTextBytes)),
        Tag.Stock => new StockResult(new StockLevel(r.ReadPooledString(MaxIdBytes, pool), r.ReadVarInt(), r.ReadVarInt(), r.ReadVarInt())),
        Tag.Token => new TokenResult(r.ReadString(MaxIdBytes), r.ReadPooledString(MaxIdBytes, pool), r.ReadVarInt()),
        Tag.Order => new OrderResult(ReadOrderBody(ref r, r.ReadVarInt(), pool)),
        Tag.Expire => new ExpireResult(r.ReadInt32(), r.ReadInt32(), r.ReadInt32()),
        Tag.Kv => new KvResult(ReadKv(ref r)),
        Tag.KvDeleted => new KvDeleted(r.ReadString(MaxTextBytes), r.ReadVarInt()),
        Tag.Transaction => new TransactionResult(ReadTransaction(ref r)),
        Tag.Barrier => new BarrierResult(r.ReadString(MaxIdBytes), r.ReadString(MaxIdBytes), r.ReadEnum<BarrierState>(), r.ReadBool()),
        Tag.PhaseTwo => new PhaseTwoResult(r.ReadInt32(), r.ReadInt32(), r.ReadInt32()),
        Tag.Message => new MessageResult(ReadEvent(ref r)),
        Tag.OrderWithMessage => new OrderWithMessageResult(ReadOrderBody(ref r, r.ReadVarInt(), pool), ReadEvent(ref r)),
        Tag.Consumer => new ConsumerResult(new ConsumerPosition(r.ReadString(MaxIdBytes), r.ReadVarInt(), r.ReadVarInt())),
        Tag.Subscription => new SubscriptionResult(ReadSubscription(ref r)),
        Tag.SubscriptionProgress => new SubscriptionProgressResult(r.ReadInt32(), r.ReadInt32()),
        Tag.MemberBound => new MemberBound(r.ReadString(MallLimits.MaxMemberAddressLength * 4), r.ReadString(MaxIdBytes)),
        Tag.StateChecked => StateChecked.Instance,
        var tag => throw new MallCodecException($"unknown result tag {tag}"),
    };

    /// <summary>A subscription with its progress (results and the snapshot's subscription table).</summary>
    public static void WriteSubscription(ByteWriter w, Subscription s)
    {
        CommandCodec.WriteSubscriptionSpec(w, s.Spec);
        w.WriteVarInt(s.Position);
        w.WriteVarInt(s.Generation);
        w.WriteVarInt(s.Attempts);
        w.WriteString(s.LastError);
        w.WriteBool(s.Stuck);
        w.WriteVarInt(s.SuspendedAt);
        w.WriteVarInt(s.UpdatedAtMs);
    }

    public static Subscription ReadSubscription(ref SpanReader r) =>
        new(CommandCodec.ReadSubscriptionSpec(ref r), r.ReadVarInt(), r.ReadVarInt(), r.ReadInt32(), r.ReadString(MaxTextBytes), r.ReadBool(), r.ReadVarInt(), r.ReadVarInt());

    /// <summary>One event with its sequence (a result's; the snapshot's event table leaves sequences implicit).</summary>
    private static void WriteEvent(ByteWriter w, MallEvent e)
    {
        w.WriteVarInt(e.Sequence);
        WriteEventBody(w, e, withPayload: true);
    }

    private static MallEvent ReadEvent(ref SpanReader r) => ReadEventBody(ref r, r.ReadVarInt(), withPayload: true);

    /// <summary>Everything of an event but its sequence; the payload only for message events, and only where the format has it.</summary>
    public static void WriteEventBody(ByteWriter w, MallEvent e, bool withPayload)
    {
        w.WriteVarInt(e.AtMs);
        w.WriteByte((byte)e.Kind);
        w.WriteVarInt(e.OrderId);
        w.WriteNullableString(e.Subject);
        w.WriteNullableString(e.Sku);
        w.WriteVarInt(e.Quantity);
        w.WriteNullableString(e.Detail);
        if (withPayload && e.Kind == EventKind.Message) w.WriteString(e.Payload ?? throw new InvariantViolationException("a message event has a payload"));
    }

    public static MallEvent ReadEventBody(ref SpanReader r, long sequence, bool withPayload)
    {
        var e = new MallEvent(sequence, r.ReadVarInt(), r.ReadEnum<EventKind>(), r.ReadVarInt(), r.ReadNullableString(MaxTextBytes),
            r.ReadNullableString(MaxIdBytes), r.ReadVarInt(), r.ReadNullableString(MaxTextBytes));
        if (e.Kind != EventKind.Message) return e;
        if (!withPayload) throw new MallCodecException("a message event in a snapshot version without payloads");
        return e with { Payload = r.ReadString(MaxTextBytes) };
    }

    /// <summary>Everything of an order but its id (implicit in the snapshot's order table).</summary>
    public static void WriteOrderBody(ByteWriter w, Order order)
    {
        w.WriteString(order.UserId);
        w.WriteByte((byte)order.Status);
        CommandCodec.WriteItems(w, order.Items);
        w.WriteVarInt(order.CreatedAtMs);
        w.WriteVarInt(order.ExpiresAtMs);
        w.WriteVarInt(order.UpdatedAtMs);
    }

    public static Order ReadOrderBody(ref SpanReader r, long orderId, HashSet<string> pool)
    {
        var userId = r.ReadPooledString(MaxIdBytes, pool);
        var status = r.ReadEnum<OrderStatus>();
        var items = new OrderItem[r.ReadCount(MallLimits.MaxItemsPerOrder)];
        for (var i = 0; i < items.Length; i++) items[i] = new OrderItem(r.ReadPooledString(MaxIdBytes, pool), r.ReadInt32());
        return new Order(orderId, userId, status, items, r.ReadVarInt(), r.ReadVarInt(), r.ReadVarInt());
    }

    public static void WriteKv(ByteWriter w, KvEntry entry)
    {
        w.WriteString(entry.Key);
        w.WriteString(entry.Value);
        w.WriteVarInt(entry.Revision);
    }

    public static KvEntry ReadKv(ref SpanReader r) => new(r.ReadString(MaxTextBytes), r.ReadString(MaxTextBytes), r.ReadVarInt());

    public static void WriteTransaction(ByteWriter w, GlobalTransaction txn)
    {
        w.WriteString(txn.Gid);
        w.WriteByte((byte)txn.Mode);
        w.WriteByte((byte)txn.Status);
        w.WriteByte((byte)txn.Decision);
        w.WriteString(txn.DecisionReason);
        w.WriteVarInt(txn.BeganAtMs);
        w.WriteVarInt(txn.DeadlineMs);
        w.WriteVarInt(txn.DecidedAtMs);
        w.WriteVarInt(txn.FinishedAtMs);
        w.WriteVarUInt((ulong)txn.Branches.Length);
        foreach (var b in txn.Branches)
        {
            CommandCodec.WriteBranch(w, b.Spec);
            w.WriteByte((byte)b.Vote);
            w.WriteBool(b.Refused);
            w.WriteBool(b.Acknowledged);
            w.WriteVarInt(b.Attempts);
            w.WriteString(b.LastError);
            w.WriteBool(b.Stuck);
            w.WriteVarInt(b.OrderId);
        }
    }

    public static GlobalTransaction ReadTransaction(ref SpanReader r)
    {
        var gid = r.ReadString(MaxIdBytes);
        var mode = r.ReadEnum<TransactionMode>();
        var status = r.ReadEnum<TransactionStatus>();
        var decision = r.ReadEnum<Decision>();
        var reason = r.ReadString(MaxTextBytes);
        var beganAtMs = r.ReadVarInt();
        var deadlineMs = r.ReadVarInt();
        var decidedAtMs = r.ReadVarInt();
        var finishedAtMs = r.ReadVarInt();
        var branches = new TransactionBranch[r.ReadCount(MallLimits.MaxBranchesPerTransaction)];
        for (var i = 0; i < branches.Length; i++)
        {
            branches[i] = new TransactionBranch(CommandCodec.ReadBranch(ref r), r.ReadEnum<Vote>(), r.ReadBool(), r.ReadBool(), r.ReadInt32(),
                r.ReadString(MaxTextBytes), r.ReadBool(), r.ReadVarInt());
        }
        return new GlobalTransaction(gid, mode, status, decision, reason, beganAtMs, deadlineMs, decidedAtMs, branches) { FinishedAtMs = finishedAtMs };
    }
}
