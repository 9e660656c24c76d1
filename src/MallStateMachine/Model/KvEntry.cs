namespace RaftMall.StateMachine;

/// <summary>A key-value pair and the store revision of its last change (etcd's mod_revision).</summary>
/// <remarks>Revisions come from one store-wide counter, so a deleted and re-created key never reuses a revision (no ABA for compare-and-set).</remarks>
public readonly record struct KvEntry(string Key, string Value, long Revision);
