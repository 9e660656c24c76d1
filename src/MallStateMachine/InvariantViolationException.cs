namespace RaftMall.StateMachine;

/// <summary>A rule that must always hold was broken: a bug, surfaced loudly rather than replicated quietly.</summary>
public sealed class InvariantViolationException : Exception
{
    public InvariantViolationException() { }
    public InvariantViolationException(string message) : base(message) { }
    public InvariantViolationException(string message, Exception inner) : base(message, inner) { }
}
