using RaftMall.StateMachine.Codec;

namespace RaftMall.StateMachine.Tests.Codec;

public class CommandCodecTests
{
    public static TheoryData<int> SampleIndexes()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < CodecSamples.Commands().Length; i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Every_command_type_round_trips(int index)
    {
        var command = CodecSamples.Commands()[index];
        var bytes = CommandCodec.Encode(command);
        var decoded = CommandCodec.Decode(bytes);

        Assert.Equal(command.GetType(), decoded.GetType());
        Assert.Equal(command.TimeMs, decoded.TimeMs);
        Assert.Equal(command.IdempotencyKey, decoded.IdempotencyKey);
        Assert.Equal(bytes, CommandCodec.Encode(decoded));
        Assert.Equal(CommandCodec.Fingerprint(command), CommandCodec.Fingerprint(decoded));
        // Records with no array fields compare by value: check those directly too.
        if (command is not (PlaceOrder or PlaceOrderWithMessage or BeginTransaction or RegisterBranch or DecideTransaction or RecordPhaseTwo or CommandBatch or CreateSubscription or RecordSubscriptionProgress)) Assert.Equal(command, decoded);
    }

    [Fact]
    public void Order_items_survive_the_round_trip()
    {
        var command = new PlaceOrder("alice", "t", [new OrderItem("apple", 2), new OrderItem("pear", 3)], 60_000);
        var decoded = Assert.IsType<PlaceOrder>(CommandCodec.Decode(CommandCodec.Encode(command)));
        Assert.Equal(command.Items, decoded.Items);
        Assert.Equal("t", decoded.Token);
        Assert.Equal(60_000, decoded.TtlMs);
    }

    [Fact]
    public void Fingerprint_ignores_what_the_proposing_node_generates_but_not_what_the_client_sent()
    {
        Assert.Equal(CommandCodec.Fingerprint(new IssueToken("random-1", "alice", 10)), CommandCodec.Fingerprint(new IssueToken("random-2", "alice", 20)));
        Assert.NotEqual(CommandCodec.Fingerprint(new IssueToken("t", "alice", 10)), CommandCodec.Fingerprint(new IssueToken("t", "bob", 10)));
        Assert.NotEqual(CommandCodec.Fingerprint(new PayOrder(1)), CommandCodec.Fingerprint(new CancelOrder(1)));
        Assert.Equal(CommandCodec.Fingerprint(new PayOrder(1) { TimeMs = 1 }), CommandCodec.Fingerprint(new PayOrder(1) { TimeMs = 2 }));
    }

    [Fact]
    public void Unknown_version_tag_and_trailing_bytes_are_refused()
    {
        var bytes = CommandCodec.Encode(new PayOrder(1));
        var badVersion = (byte[])bytes.Clone();
        badVersion[0] = 99;
        Assert.Contains("version", Assert.Throws<MallCodecException>(() => CommandCodec.Decode(badVersion)).Message, StringComparison.Ordinal);

        var badTag = (byte[])bytes.Clone();
        badTag[1] = 200;
        Assert.Throws<MallCodecException>(() => CommandCodec.Decode(badTag));

        Assert.Contains("trailing", Assert.Throws<MallCodecException>(() => CommandCodec.Decode([.. bytes, 0])).Message, StringComparison.Ordinal);
        Assert.Throws<MallCodecException>(() => CommandCodec.Decode([]));
    }

    [Fact]
    public void Oversized_strings_and_counts_are_refused_before_allocating()
    {
        // version, tag SetStock, time 0, no key, then a sku length of 2^40 bytes.
        byte[] hugeString = [CommandCodec.Version, 1, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20];
        Assert.Throws<MallCodecException>(() => CommandCodec.Decode(hugeString));

        var tooBig = new KvPut("k", new string('x', MallLimits.MaxEncodedCommandBytes + 1), null);
        Assert.Throws<MallCodecException>(() => CommandCodec.Encode(tooBig));
        Assert.Throws<MallCodecException>(() => CommandCodec.Decode(new byte[MallLimits.MaxEncodedCommandBytes + 1]));
    }

    [Fact]
    public void Invalid_utf8_is_refused()
    {
        var bytes = CommandCodec.Encode(new SetStock("ab", 1));
        var index = Array.IndexOf(bytes, (byte)'a');
        bytes[index] = 0xff;
        Assert.Contains("UTF-8", Assert.Throws<MallCodecException>(() => CommandCodec.Decode(bytes)).Message, StringComparison.Ordinal);
    }
}
