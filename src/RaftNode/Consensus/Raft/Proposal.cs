using System.Buffers;
using System.Buffers.Binary;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Codec;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// A command on its way through the log, and the place its result comes back to. The log entry payload is
/// <c>proposalId(8, little endian) command(CommandCodec)</c>; the proposing node passes this object as the entry's
/// context, and apply fills <see cref="Result"/> only when the ids match (DotNext may keep a stale context for an
/// index whose entry a new leader overwrote).
/// </summary>
public sealed class Proposal(MallCommand command)
{
    public const int HeaderBytes = 8;

    public long Id { get; } = Random.Shared.NextInt64(1, long.MaxValue);

    public MallCommand Command { get; } = command;

    public MallResult? Result { get; set; }

    /// <summary>The log index the entry was applied at (0 until applied).</summary>
    public long AppliedIndex { get; set; }

    /// <summary>Stopwatch timestamps of the apply of this entry on this node (0 until applied): the write's stages.</summary>
    public long ApplyStarted { get; set; }

    public long ApplyFinished { get; set; }

    public byte[] Encode()
    {
        var writer = new ByteWriter(64);
        Span<byte> header = stackalloc byte[HeaderBytes];
        BinaryPrimitives.WriteInt64LittleEndian(header, Id);
        writer.WriteBytes(header);
        CommandCodec.Encode(Command, writer);
        return writer.ToArray();
    }

    /// <summary>Splits a payload into its proposal id and command; raises <see cref="MallCodecException"/> on malformed bytes.</summary>
    public static (long ProposalId, MallCommand Command) Decode(in ReadOnlySequence<byte> payload)
    {
        if (payload.Length < HeaderBytes + 2) throw new MallCodecException("log entry payload is too short");
        byte[]? rented = null;
        ReadOnlySpan<byte> bytes;
        if (payload.IsSingleSegment)
        {
            bytes = payload.FirstSpan;
        }
        else
        {
            rented = ArrayPool<byte>.Shared.Rent((int)payload.Length);
            payload.CopyTo(rented);
            bytes = rented.AsSpan(0, (int)payload.Length);
        }
        try
        {
            return (BinaryPrimitives.ReadInt64LittleEndian(bytes), CommandCodec.Decode(bytes[HeaderBytes..]));
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
