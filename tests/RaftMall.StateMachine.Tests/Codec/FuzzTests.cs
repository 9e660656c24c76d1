using System.Buffers.Binary;
using RaftMall.StateMachine.Codec;

namespace RaftMall.StateMachine.Tests.Codec;

/// <summary>Malformed input of every kind: the decoders either succeed or raise <see cref="MallCodecException"/>, nothing else.</summary>
public class FuzzTests
{
    private static void DecodesOrRefuses(Action decode)
    {
        try
        {
            decode();
        }
        catch (MallCodecException)
        {
            // the one allowed failure
        }
    }

    [Fact]
    public void Random_bytes_never_crash_the_command_decoder()
    {
        var random = new Random(12345);
        for (var i = 0; i < 200_000; i++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            if (bytes.Length > 0 && random.Next(2) == 0) bytes[0] = CommandCodec.Version; // get past the version byte often
            if (bytes.Length > 1 && random.Next(2) == 0) bytes[1] = (byte)random.Next(1, 15);
            DecodesOrRefuses(() => CommandCodec.Decode(bytes));
        }
    }

    [Fact]
    public void Every_truncation_and_bit_flip_of_valid_commands_decodes_or_is_refused()
    {
        var random = new Random(777);
        foreach (var command in CodecSamples.Commands())
        {
            var bytes = CommandCodec.Encode(command);
            for (var length = 0; length < bytes.Length; length++)
            {
                Assert.Throws<MallCodecException>(() => CommandCodec.Decode(bytes.AsSpan(0, length)));
            }
            for (var i = 0; i < 2_000; i++)
            {
                var mutated = (byte[])bytes.Clone();
                mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
                if (random.Next(4) == 0) mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
                DecodesOrRefuses(() => CommandCodec.Decode(mutated));
            }
        }
    }

    [Fact]
    public void Mutated_snapshots_with_a_valid_checksum_decode_or_are_refused()
    {
        // Re-sealing the checksum after each mutation gets past the integrity check and exercises the decoder itself.
        var original = SnapshotCodecTests.LargeState(300).Snapshot();
        var random = new Random(4242);
        for (var i = 0; i < 3_000; i++)
        {
            var mutated = (byte[])original.Clone();
            var flips = random.Next(1, 4);
            for (var f = 0; f < flips; f++) mutated[random.Next(5, mutated.Length - 8)] = (byte)random.Next(256);
            if (random.Next(5) == 0) mutated = [.. mutated.AsSpan(0, random.Next(5, mutated.Length - 8)), .. new byte[8]];
            Reseal(mutated);
            DecodesOrRefuses(() => MallStateMachine.Restore(mutated));
        }
    }

    [Fact]
    public void Every_truncation_of_a_snapshot_is_refused()
    {
        var original = SnapshotCodecTests.LargeState(20).Snapshot();
        Assert.Null(MallStateMachine.CheckSnapshotFrame(original));
        for (var length = 0; length < original.Length; length++)
        {
            Assert.Throws<MallCodecException>(() => MallStateMachine.Restore(original.AsSpan(0, length)));
            Assert.NotNull(MallStateMachine.CheckSnapshotFrame(original.AsSpan(0, length))); // what a node's startup checks
            var resealed = original[..length].Concat(new byte[8]).ToArray();
            if (resealed.Length >= 13 && length < original.Length - 8) // a shorter body under a fresh checksum
            {
                Reseal(resealed);
                Assert.Throws<MallCodecException>(() => MallStateMachine.Restore(resealed));
            }
        }
    }

    private static void Reseal(byte[] snapshot)
    {
        var hash = MallStateMachine.Checksum(MallStateMachine.SnapshotVersion, snapshot.AsSpan(0, snapshot.Length - 8));
        BinaryPrimitives.WriteUInt64LittleEndian(snapshot.AsSpan(snapshot.Length - 8), hash);
    }
}
