namespace RaftMall.StateMachine;

// The member directory's identities: which member id each member address belongs to. DotNext's configuration says
// which addresses are members; this says which data directory may speak for an address, so that a node that comes
// back on an empty disk at a member's address is not taken for that member (docs/operations.md, "Node identity").
public sealed partial class MallStateMachine
{
    private readonly Dictionary<string, string> _memberIds = new(StringComparer.Ordinal);

    /// <summary>The member id bound to <paramref name="address"/> (a canonical base address), or null.</summary>
    public string? MemberIdAt(string address) => _memberIds.GetValueOrDefault(address);

    /// <summary>Every binding, ordered by address.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> MemberIds() =>
        [.. SortedKeys(_memberIds).Select(address => KeyValuePair.Create(address, _memberIds[address]))];

    private MallResult ApplyBindMember(BindMember c)
    {
        if (CheckMemberAddress(c.Address) is { } addressError) return Invalid(addressError);
        if (Validation.CheckId(c.MemberId, "member id") is { } idError) return Invalid(idError);
        if (!_memberIds.ContainsKey(c.Address) && _memberIds.Count >= MallLimits.MaxMemberAddresses)
        {
            return Invalid($"the member directory already holds {MallLimits.MaxMemberAddresses} addresses");
        }
        _memberIds[c.Address] = c.MemberId;
        return new MemberBound(c.Address, c.MemberId);
    }

    /// <summary>
    /// A member address is a canonical base address: http or https, a host and a port, nothing else, written as
    /// <see cref="Uri.GetLeftPart"/> writes it (so one address has one spelling on every replica).
    /// </summary>
    public static string? CheckMemberAddress(string? address)
    {
        if (string.IsNullOrEmpty(address)) return "member address must not be empty";
        if (address.Length > MallLimits.MaxMemberAddressLength) return $"member address is longer than {MallLimits.MaxMemberAddressLength} characters";
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !string.Equals(uri.GetLeftPart(UriPartial.Authority), address, StringComparison.Ordinal))
        {
            return $"member address '{address}' is not a canonical base address such as http://10.0.0.4:7101";
        }
        return null;
    }
}
