namespace RaftMall.StateMachine;

/// <summary>Stock of one sku as seen by readers: counts at one applied index.</summary>
public readonly record struct StockLevel(string Sku, long Available, long Locked, long Sold)
{
    public long Total => Available + Locked + Sold;
}

/// <summary>Mutable stock counts owned by the state machine; never handed out.</summary>
internal sealed class StockCounts(string sku)
{
    public string Sku { get; } = sku;
    public long Available;
    public long Locked;
    public long Sold;

    public StockLevel ToLevel() => new(Sku, Available, Locked, Sold);
}
