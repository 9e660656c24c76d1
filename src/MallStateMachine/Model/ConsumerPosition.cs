namespace RaftMall.StateMachine;

/// <summary>A pull consumer's committed position: every event up to <see cref="Sequence"/> is acknowledged (0: none yet).</summary>
public sealed record ConsumerPosition(string Name, long Sequence, long UpdatedAtMs);
