namespace RaftMall.Harness;

/// <summary>A process could not be started as asked (its program is not built, its port is taken, it did not come up).</summary>
public sealed class HarnessException : Exception
{
    public HarnessException() { }
    public HarnessException(string message) : base(message) { }
    public HarnessException(string message, Exception inner) : base(message, inner) { }
    public HarnessException(string message, bool notBuilt) : base(message) => NotBuilt = notBuilt;

    /// <summary>The program to start is not built: a setup problem, not a failure of the run.</summary>
    public bool NotBuilt { get; }
}
