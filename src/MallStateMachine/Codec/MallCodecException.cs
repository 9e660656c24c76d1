namespace RaftMall.StateMachine.Codec;

/// <summary>The one exception decoding raises for bytes that are truncated, oversized, of an unknown version or otherwise not a valid encoding.</summary>
public sealed class MallCodecException : Exception
{
    public MallCodecException() { }
    public MallCodecException(string message) : base(message) { }
    public MallCodecException(string message, Exception inner) : base(message, inner) { }
}
