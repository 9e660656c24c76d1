using System.Buffers.Binary;
using System.Text;

namespace RaftMall.StateMachine.Codec;

/// <summary>Reads what <see cref="ByteWriter"/> wrote; every read is bounds-checked and fails with <see cref="MallCodecException"/>.</summary>
internal ref struct SpanReader(ReadOnlySpan<byte> data)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; private set; }

    public readonly int Remaining => _data.Length - Position;

    public byte ReadByte()
    {
        if (Position >= _data.Length) throw Truncated();
        return _data[Position++];
    }

    public bool ReadBool() => ReadByte() switch
    {
        0 => false,
        1 => true,
        var b => throw new MallCodecException($"invalid boolean byte {b} at offset {Position - 1}"),
    };

    public ulong ReadVarUInt()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            if (shift == 63 && b > 1) throw new MallCodecException("varint overflows 64 bits");
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return result;
        }
        throw new MallCodecException("varint longer than 10 bytes");
    }

    public long ReadVarInt()
    {
        var raw = ReadVarUInt();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    public int ReadInt32()
    {
        var value = ReadVarInt();
        if (value is < int.MinValue or > int.MaxValue) throw new MallCodecException("integer out of 32-bit range");
        return (int)value;
    }

    public ulong ReadUInt64()
    {
        if (Remaining < 8) throw Truncated();
        var value = BinaryPrimitives.ReadUInt64LittleEndian(_data[Position..]);
        Position += 8;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || Remaining < count) throw Truncated();
        var slice = _data.Slice(Position, count);
        Position += count;
        return slice;
    }

    public string ReadString(int maxBytes) => Decode(ReadLength(ReadVarUInt(), maxBytes));

    public string? ReadNullableString(int maxBytes)
    {
        var raw = ReadVarUInt();
        return raw == 0 ? null : Decode(ReadLength(raw - 1, maxBytes));
    }

    /// <summary>Reads a string and returns the equal instance from <paramref name="pool"/>, adding it when new: repeated skus and user ids share one string.</summary>
    public string ReadPooledString(int maxBytes, HashSet<string> pool)
    {
        var bytes = ReadBytes(ReadLength(ReadVarUInt(), maxBytes));
        Span<char> chars = bytes.Length <= 256 ? stackalloc char[bytes.Length] : new char[bytes.Length];
        int charCount;
        try
        {
            charCount = StrictUtf8.GetChars(bytes, chars);
        }
        catch (DecoderFallbackException e)
        {
            throw new MallCodecException("invalid UTF-8 in string", e);
        }
        var lookup = pool.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(chars[..charCount], out var pooled)) return pooled;
        var created = new string(chars[..charCount]);
        pool.Add(created);
        return created;
    }

    /// <summary>Reads an element count; each element takes at least one byte, so garbage cannot ask for a huge allocation.</summary>
    public int ReadCount(int maxCount)
    {
        var count = ReadVarUInt();
        if (count > (ulong)maxCount) throw new MallCodecException($"count {count} exceeds the limit {maxCount}");
        if (count > (ulong)Remaining) throw Truncated();
        return (int)count;
    }

    public T ReadEnum<T>() where T : struct, Enum
    {
        var b = ReadByte();
        if (System.Runtime.CompilerServices.Unsafe.SizeOf<T>() != 1) throw new InvalidOperationException("wire enums are one byte");
        var value = System.Runtime.CompilerServices.Unsafe.As<byte, T>(ref b);
        if (!Enum.IsDefined(value)) throw new MallCodecException($"unknown {typeof(T).Name} value {b}");
        return value;
    }

    public readonly void EnsureEnd()
    {
        if (Remaining != 0) throw new MallCodecException($"{Remaining} unexpected trailing bytes");
    }

    private int ReadLength(ulong length, int maxBytes)
    {
        if (length > (ulong)maxBytes) throw new MallCodecException($"string of {length} bytes exceeds the limit {maxBytes}");
        if (length > (ulong)Remaining) throw Truncated();
        return (int)length;
    }

    private string Decode(int length)
    {
        try
        {
            return StrictUtf8.GetString(ReadBytes(length));
        }
        catch (DecoderFallbackException e)
        {
            throw new MallCodecException("invalid UTF-8 in string", e);
        }
    }

    private readonly MallCodecException Truncated() => new($"truncated input at offset {Position} of {_data.Length}");
}
