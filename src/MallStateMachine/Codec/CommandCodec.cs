namespace RaftMall.StateMachine.Codec;

/// <summary>
/// The versioned binary encoding of commands, as they travel in the Raft log:
/// <c>version(1) tag(1) timeMs(varint) idempotencyKey(nullable string) fields...</c>.
/// </summary>
public static class CommandCodec
{
    // 2: branch kinds, decisions with votes, batched phase-2 records, retry. New commands add tags without a new
    // version: every version-2 entry already in a log still decodes the same way.
    public const byte Version = 2;

    private const int MaxIdBytes = MallLimits.MaxIdLength * 4;
    private const int MaxTextBytes = MallLimits.MaxEncodedCommandBytes;

    private enum Tag : byte
    {
        SetStock = 1,
        IssueToken = 2,
        PlaceOrder = 3,
        PayOrder = 4,
        CancelOrder = 5,
        ExpireDue = 6,
        KvPut = 7,
        KvDelete = 8,
        BeginTransaction = 9,
        RegisterBranch = 10,
        RecordVote = 11,
        DecideTransaction = 12,
        RecordPhaseTwo = 13,
        TccBarrier = 14,
        RetryTransaction = 15,
        CommandBatch = 16,
        KeyedBatch = 17, // a CommandBatch in which some command carries an idempotency key: each nested command has one (nullable)
        PublishMessage = 18,
        PlaceOrderWithMessage = 19,
        AckConsumer = 20,
        MoveConsumer = 21,
        DeleteConsumer = 22,
        CreateSubscription = 23,
        RecordSubscriptionProgress = 24,
        RetrySubscription = 25,
        ResumeSubscription = 26,
        DeleteSubscription = 27,
        BindMember = 28,
        CheckState = 29,
    }

    public static byte[] Encode(MallCommand command)
    {
        var writer = new ByteWriter(64);
        Encode(command, writer);
        return writer.ToArray();
    }

    public static void Encode(MallCommand command, ByteWriter writer)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteByte(Version);
        writer.WriteByte((byte)TagOf(command));
        writer.WriteVarInt(command.TimeMs);
        writer.WriteNullableString(command.IdempotencyKey);
        WriteFields(command, writer, fingerprintOnly: false);
        if (writer.Length > MallLimits.MaxEncodedCommandBytes)
        {
            throw new MallCodecException($"command encodes to {writer.Length} bytes, over the limit {MallLimits.MaxEncodedCommandBytes}");
        }
    }

    /// <summary>Decodes one command; any malformed input raises <see cref="MallCodecException"/>.</summary>
    public static MallCommand Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MallLimits.MaxEncodedCommandBytes) throw new MallCodecException($"command of {bytes.Length} bytes is over the limit");
        var reader = new SpanReader(bytes);
        var version = reader.ReadByte();
        if (version != Version) throw new MallCodecException($"unknown command version {version}");
        var tag = reader.ReadEnum<Tag>();
        var timeMs = reader.ReadVarInt();
        var key = reader.ReadNullableString(MallLimits.MaxIdempotencyKeyLength * 4);
        var command = ReadFields(tag, ref reader);
        reader.EnsureEnd();
        return command with { TimeMs = timeMs, IdempotencyKey = key };
    }

    private static MallCommand ReadFields(Tag tag, ref SpanReader reader) => tag switch
    {
        Tag.SetStock => new SetStock(reader.ReadString(MaxIdBytes), reader.ReadVarInt()),
        Tag.IssueToken => new IssueToken(reader.ReadString(MaxIdBytes), reader.ReadString(MaxIdBytes), reader.ReadVarInt()),
        Tag.PlaceOrder => new PlaceOrder(reader.ReadString(MaxIdBytes), reader.ReadNullableString(MaxIdBytes), ReadItems(ref reader), reader.ReadVarInt()),
        Tag.PayOrder => new PayOrder(reader.ReadVarInt()),
        Tag.CancelOrder => new CancelOrder(reader.ReadVarInt()),
        Tag.ExpireDue => new ExpireDue(),
        Tag.KvPut => new KvPut(reader.ReadString(MaxTextBytes), reader.ReadString(MaxTextBytes), ReadOptionalLong(ref reader)),
        Tag.KvDelete => new KvDelete(reader.ReadString(MaxTextBytes), ReadOptionalLong(ref reader)),
        Tag.BeginTransaction => new BeginTransaction(reader.ReadString(MaxIdBytes), reader.ReadEnum<TransactionMode>(), reader.ReadVarInt(), ReadBranches(ref reader)),
        Tag.RegisterBranch => new RegisterBranch(reader.ReadString(MaxIdBytes), ReadBranch(ref reader)),
        Tag.RecordVote => new RecordVote(reader.ReadString(MaxIdBytes), reader.ReadString(MaxIdBytes), reader.ReadEnum<Vote>()),
        Tag.DecideTransaction => new DecideTransaction(reader.ReadString(MaxIdBytes), reader.ReadEnum<Decision>(), reader.ReadString(MaxTextBytes), ReadVotes(ref reader)),
        Tag.RecordPhaseTwo => new RecordPhaseTwo(ReadProgress(ref reader)),
        Tag.RetryTransaction => new RetryTransaction(reader.ReadString(MaxIdBytes)),
        Tag.TccBarrier => new TccBarrier(reader.ReadString(MaxIdBytes), reader.ReadString(MaxIdBytes), reader.ReadEnum<BarrierOperation>()),
        Tag.CommandBatch => new CommandBatch(ReadBatch(ref reader, keyed: false)),
        Tag.KeyedBatch => new CommandBatch(ReadBatch(ref reader, keyed: true)),
        Tag.PublishMessage => new PublishMessage(reader.ReadString(MaxIdBytes), reader.ReadNullableString(MaxIdBytes), reader.ReadString(MaxTextBytes)),
        Tag.PlaceOrderWithMessage => new PlaceOrderWithMessage(reader.ReadString(MaxIdBytes), reader.ReadNullableString(MaxIdBytes), ReadItems(ref reader),
            reader.ReadVarInt(), reader.ReadString(MaxIdBytes), reader.ReadNullableString(MaxIdBytes), reader.ReadString(MaxTextBytes)),
        Tag.AckConsumer => new AckConsumer(reader.ReadString(MaxIdBytes), reader.ReadVarInt()),
        Tag.MoveConsumer => new MoveConsumer(reader.ReadString(MaxIdBytes), reader.ReadVarInt()),
        Tag.DeleteConsumer => new DeleteConsumer(reader.ReadString(MaxIdBytes)),
        Tag.CreateSubscription => new CreateSubscription(ReadSubscriptionSpec(ref reader), ReadOptionalLong(ref reader)),
        Tag.RecordSubscriptionProgress => new RecordSubscriptionProgress(ReadSubscriptionProgress(ref reader)),
        Tag.RetrySubscription => new RetrySubscription(reader.ReadString(MaxIdBytes)),
        Tag.ResumeSubscription => new ResumeSubscription(reader.ReadString(MaxIdBytes), reader.ReadVarInt()),
        Tag.DeleteSubscription => new DeleteSubscription(reader.ReadString(MaxIdBytes)),
        Tag.BindMember => new BindMember(reader.ReadString(MallLimits.MaxMemberAddressLength * 4), reader.ReadString(MaxIdBytes)),
        Tag.CheckState => new CheckState(),
        _ => throw new MallCodecException($"unknown command tag {tag}"),
    };

    /// <summary>
    /// A 64-bit fingerprint of what the client asked for, to tell a retry from a different request under the same
    /// idempotency key. Values the proposing node generates (a token's random value and expiry) are left out,
    /// because a retry through another node generates different ones.
    /// </summary>
    public static ulong Fingerprint(MallCommand command)
    {
        var writer = new ByteWriter(64);
        writer.WriteByte((byte)TagOf(command));
        WriteFields(command, writer, fingerprintOnly: true);
        return Fnv1a64.Hash(writer.WrittenSpan);
    }

    private static Tag TagOf(MallCommand command) => command switch
    {
        SetStock => Tag.SetStock,
        IssueToken => Tag.IssueToken,
        PlaceOrder => Tag.PlaceOrder,
        PayOrder => Tag.PayOrder,
        CancelOrder => Tag.CancelOrder,
        ExpireDue => Tag.ExpireDue,
        KvPut => Tag.KvPut,
        KvDelete => Tag.KvDelete,
        BeginTransaction => Tag.BeginTransaction,
        RegisterBranch => Tag.RegisterBranch,
        RecordVote => Tag.RecordVote,
        DecideTransaction => Tag.DecideTransaction,
        RecordPhaseTwo => Tag.RecordPhaseTwo,
        TccBarrier => Tag.TccBarrier,
        RetryTransaction => Tag.RetryTransaction,
        PublishMessage => Tag.PublishMessage,
        PlaceOrderWithMessage => Tag.PlaceOrderWithMessage,
        AckConsumer => Tag.AckConsumer,
        MoveConsumer => Tag.MoveConsumer,
        DeleteConsumer => Tag.DeleteConsumer,
        CreateSubscription => Tag.CreateSubscription,
        RecordSubscriptionProgress => Tag.RecordSubscriptionProgress,
        RetrySubscription => Tag.RetrySubscription,
        ResumeSubscription => Tag.ResumeSubscription,
        DeleteSubscription => Tag.DeleteSubscription,
        BindMember => Tag.BindMember,
        CheckState => Tag.CheckState,
        CommandBatch c => c.Commands.Any(nested => nested.IdempotencyKey is not null) ? Tag.KeyedBatch : Tag.CommandBatch,
        _ => throw new ArgumentException($"unknown command type {command.GetType().Name}", nameof(command)),
    };

    private static void WriteFields(MallCommand command, ByteWriter writer, bool fingerprintOnly)
    {
        switch (command)
        {
            case SetStock c:
                writer.WriteString(c.Sku);
                writer.WriteVarInt(c.Available);
                break;
            case IssueToken c when fingerprintOnly:
                writer.WriteString(c.UserId);
                break;
            case IssueToken c:
                writer.WriteString(c.Token);
                writer.WriteString(c.UserId);
                writer.WriteVarInt(c.ExpiresAtMs);
                break;
            case PlaceOrder c:
                writer.WriteString(c.UserId);
                writer.WriteNullableString(c.Token);
                WriteItems(writer, c.Items);
                writer.WriteVarInt(c.TtlMs);
                break;
            case PayOrder c:
                writer.WriteVarInt(c.OrderId);
                break;
            case CancelOrder c:
                writer.WriteVarInt(c.OrderId);
                break;
            case ExpireDue:
                break;
            case KvPut c:
                writer.WriteString(c.Key);
                writer.WriteString(c.Value);
                WriteOptionalLong(writer, c.ExpectedRevision);
                break;
            case KvDelete c:
                writer.WriteString(c.Key);
                WriteOptionalLong(writer, c.ExpectedRevision);
                break;
            case BeginTransaction c:
                writer.WriteString(c.Gid);
                writer.WriteByte((byte)c.Mode);
                writer.WriteVarInt(c.TimeoutMs);
                writer.WriteVarUInt((ulong)c.Branches.Length);
                foreach (var branch in c.Branches) WriteBranch(writer, branch);
                break;
            case RegisterBranch c:
                writer.WriteString(c.Gid);
                WriteBranch(writer, c.Branch);
                break;
            case RecordVote c:
                writer.WriteString(c.Gid);
                writer.WriteString(c.BranchId);
                writer.WriteByte((byte)c.Vote);
                break;
            case DecideTransaction c:
                writer.WriteString(c.Gid);
                writer.WriteByte((byte)c.Decision);
                writer.WriteString(c.Reason);
                writer.WriteVarUInt((ulong)c.Votes.Length);
                foreach (var vote in c.Votes)
                {
                    writer.WriteString(vote.BranchId);
                    writer.WriteByte((byte)vote.Vote);
                    writer.WriteBool(vote.Refused);
                    writer.WriteVarInt(vote.Attempts);
                    writer.WriteString(vote.Error);
                }
                break;
            case RecordPhaseTwo c:
                writer.WriteVarUInt((ulong)c.Items.Length);
                foreach (var item in c.Items)
                {
                    writer.WriteString(item.Gid);
                    writer.WriteString(item.BranchId);
                    writer.WriteByte((byte)item.Phase);
                    writer.WriteBool(item.Done);
                    writer.WriteVarInt(item.Attempts);
                    writer.WriteString(item.Error);
                    writer.WriteBool(item.Stuck);
                }
                break;
            case RetryTransaction c:
                writer.WriteString(c.Gid);
                break;
            case CommandBatch c:
                // Nested commands carry no time of their own (the batch's applies to all of them); a key only in a KeyedBatch.
                var keyed = TagOf(c) == Tag.KeyedBatch;
                writer.WriteVarUInt((ulong)c.Commands.Length);
                foreach (var nested in c.Commands)
                {
                    if (nested is CommandBatch) throw new MallCodecException("a batch does not nest");
                    writer.WriteByte((byte)TagOf(nested));
                    if (keyed) writer.WriteNullableString(nested.IdempotencyKey);
                    WriteFields(nested, writer, fingerprintOnly);
                }
                break;
            case TccBarrier c:
                writer.WriteString(c.Gid);
                writer.WriteString(c.BranchId);
                writer.WriteByte((byte)c.Operation);
                break;
            case PublishMessage c:
                WriteMessage(writer, c.Topic, c.Key, c.Payload);
                break;
            case PlaceOrderWithMessage c:
                WriteFields(c.ToPlaceOrder(), writer, fingerprintOnly);
                WriteMessage(writer, c.Topic, c.Key, c.Payload);
                break;
            case AckConsumer c:
                writer.WriteString(c.Consumer);
                writer.WriteVarInt(c.Sequence);
                break;
            case MoveConsumer c:
                writer.WriteString(c.Consumer);
                writer.WriteVarInt(c.Sequence);
                break;
            case DeleteConsumer c:
                writer.WriteString(c.Consumer);
                break;
            case CreateSubscription c:
                WriteSubscriptionSpec(writer, c.Spec);
                WriteOptionalLong(writer, c.StartAfter);
                break;
            case RecordSubscriptionProgress c:
                writer.WriteVarUInt((ulong)c.Items.Length);
                foreach (var item in c.Items)
                {
                    writer.WriteString(item.Name);
                    writer.WriteVarInt(item.Generation);
                    writer.WriteVarInt(item.Position);
                    writer.WriteVarInt(item.Attempts);
                    writer.WriteString(item.LastError);
                    writer.WriteBool(item.Stuck);
                }
                break;
            case RetrySubscription c:
                writer.WriteString(c.Name);
                break;
            case ResumeSubscription c:
                writer.WriteString(c.Name);
                writer.WriteVarInt(c.Position);
                break;
            case DeleteSubscription c:
                writer.WriteString(c.Name);
                break;
            case BindMember c:
                writer.WriteString(c.Address);
                writer.WriteString(c.MemberId);
                break;
            case CheckState:
                break;
            default:
                throw new ArgumentException($"unknown command type {command.GetType().Name}", nameof(command));
        }
    }

    private static void WriteMessage(ByteWriter writer, string topic, string? key, string payload)
    {
        writer.WriteString(topic);
        writer.WriteNullableString(key);
        writer.WriteString(payload);
    }

    internal static void WriteSubscriptionSpec(ByteWriter writer, SubscriptionSpec spec)
    {
        writer.WriteString(spec.Name);
        writer.WriteString(spec.Endpoint);
        writer.WriteVarUInt((ulong)spec.Topics.Length);
        foreach (var topic in spec.Topics) writer.WriteString(topic);
        writer.WriteVarUInt((ulong)spec.EventTypes.Length);
        foreach (var type in spec.EventTypes) writer.WriteString(type);
        writer.WriteVarInt(spec.TimeoutMs);
        writer.WriteVarInt(spec.BatchSize);
        writer.WriteVarInt(spec.MaxAttempts);
    }

    internal static SubscriptionSpec ReadSubscriptionSpec(ref SpanReader reader)
    {
        var name = reader.ReadString(MaxIdBytes);
        var endpoint = reader.ReadString(MallLimits.MaxUrlLength * 4);
        // Decoding allows more filters than a subscription may have, so that apply (not the codec) gives the clear refusal.
        var topics = new string[reader.ReadCount(MallLimits.MaxSubscriptionFilters * 4)];
        for (var i = 0; i < topics.Length; i++) topics[i] = reader.ReadString(MaxIdBytes);
        var types = new string[reader.ReadCount(MallLimits.MaxSubscriptionFilters * 4)];
        for (var i = 0; i < types.Length; i++) types[i] = reader.ReadString(MaxIdBytes);
        return new SubscriptionSpec(name, endpoint, topics, types, reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
    }

    private static SubscriptionProgress[] ReadSubscriptionProgress(ref SpanReader reader)
    {
        var items = new SubscriptionProgress[reader.ReadCount(MallLimits.MaxSubscriptions * 4)];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = new SubscriptionProgress(reader.ReadString(MaxIdBytes), reader.ReadVarInt(), reader.ReadVarInt(), reader.ReadInt32(),
                reader.ReadString(MaxTextBytes), reader.ReadBool());
        }
        return items;
    }

    internal static void WriteItems(ByteWriter writer, OrderItem[] items)
    {
        writer.WriteVarUInt((ulong)items.Length);
        foreach (var item in items)
        {
            writer.WriteString(item.Sku);
            writer.WriteVarInt(item.Quantity);
        }
    }

    internal static OrderItem[] ReadItems(ref SpanReader reader)
    {
        // Decoding allows more items than an order may have, so that apply (not the codec) gives the clear refusal.
        var items = new OrderItem[reader.ReadCount(MallLimits.MaxItemsPerOrder * 4)];
        for (var i = 0; i < items.Length; i++) items[i] = new OrderItem(reader.ReadString(MaxIdBytes), reader.ReadInt32());
        return items;
    }

    internal static void WriteBranch(ByteWriter writer, BranchSpec branch)
    {
        writer.WriteString(branch.BranchId);
        writer.WriteByte((byte)branch.Kind);
        writer.WriteVarUInt((ulong)branch.Urls.Length);
        foreach (var url in branch.Urls) writer.WriteString(url);
        writer.WriteString(branch.Payload);
        writer.WriteVarInt(branch.TimeoutMs);
        writer.WriteString(branch.UserId);
        WriteItems(writer, branch.Items);
    }

    internal static BranchSpec ReadBranch(ref SpanReader reader)
    {
        var id = reader.ReadString(MaxIdBytes);
        var kind = reader.ReadEnum<BranchKind>();
        var urls = new string[reader.ReadCount(3)];
        for (var i = 0; i < urls.Length; i++) urls[i] = reader.ReadString(MallLimits.MaxUrlLength * 4);
        return new BranchSpec(id, kind, urls, reader.ReadString(MaxTextBytes), reader.ReadVarInt(), reader.ReadString(MaxIdBytes), ReadItems(ref reader));
    }

    private static MallCommand[] ReadBatch(ref SpanReader reader, bool keyed)
    {
        var commands = new MallCommand[reader.ReadCount(MallLimits.MaxBatchCommands)];
        for (var i = 0; i < commands.Length; i++)
        {
            var tag = reader.ReadEnum<Tag>();
            if (tag is Tag.CommandBatch or Tag.KeyedBatch) throw new MallCodecException("a batch does not nest");
            var key = keyed ? reader.ReadNullableString(MallLimits.MaxIdempotencyKeyLength * 4) : null;
            commands[i] = ReadFields(tag, ref reader) with { IdempotencyKey = key };
        }
        return commands;
    }

    private static BranchVote[] ReadVotes(ref SpanReader reader)
    {
        var votes = new BranchVote[reader.ReadCount(MallLimits.MaxBranchesPerTransaction * 4)];
        for (var i = 0; i < votes.Length; i++)
        {
            votes[i] = new BranchVote(reader.ReadString(MaxIdBytes), reader.ReadEnum<Vote>(), reader.ReadBool(), reader.ReadInt32(), reader.ReadString(MaxTextBytes));
        }
        return votes;
    }

    private static BranchProgress[] ReadProgress(ref SpanReader reader)
    {
        var items = new BranchProgress[reader.ReadCount(MallLimits.MaxPhaseTwoBatch)];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = new BranchProgress(reader.ReadString(MaxIdBytes), reader.ReadString(MaxIdBytes), reader.ReadEnum<Decision>(), reader.ReadBool(),
                reader.ReadInt32(), reader.ReadString(MaxTextBytes), reader.ReadBool());
        }
        return items;
    }

    private static BranchSpec[] ReadBranches(ref SpanReader reader)
    {
        var branches = new BranchSpec[reader.ReadCount(MallLimits.MaxBranchesPerTransaction * 4)];
        for (var i = 0; i < branches.Length; i++) branches[i] = ReadBranch(ref reader);
        return branches;
    }

    private static void WriteOptionalLong(ByteWriter writer, long? value)
    {
        writer.WriteBool(value.HasValue);
        if (value is { } v) writer.WriteVarInt(v);
    }

    private static long? ReadOptionalLong(ref SpanReader reader) => reader.ReadBool() ? reader.ReadVarInt() : null;
}
