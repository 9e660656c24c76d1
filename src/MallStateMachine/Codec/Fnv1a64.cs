namespace RaftMall.StateMachine.Codec;

/// <summary>FNV-1a, 64-bit: a small, stable, dependency-free hash for fingerprints and snapshot checksums.</summary>
public static class Fnv1a64
{
    private const ulong Offset = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Hash(ReadOnlySpan<byte> data) => Append(Offset, data);

    public static ulong Append(ulong hash, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            hash ^= b;
            hash *= Prime;
        }
        return hash;
    }
}
