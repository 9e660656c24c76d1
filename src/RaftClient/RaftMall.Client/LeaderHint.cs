namespace RaftMall.Client;

/// <summary>
/// Which endpoint the client sends to first: the node that last said it leads, or the next one after a node stopped
/// answering. One per client configuration; the transient clients of dependency injection share it.
/// </summary>
internal sealed class LeaderHint
{
    private int _preferred;

    /// <summary>The index into the endpoints to try first.</summary>
    public int Preferred => Volatile.Read(ref _preferred);

    /// <summary>Prefers endpoint <paramref name="index"/>; true when that changed the preference.</summary>
    public bool Prefer(int index) => Interlocked.Exchange(ref _preferred, index) != index;

    /// <summary>Moves past endpoint <paramref name="failed"/> unless another caller already did; true when this call moved.</summary>
    public bool MoveOn(int failed, int count) => count > 1 && Interlocked.CompareExchange(ref _preferred, (failed + 1) % count, failed) == failed;
}
