using System.Text.Json;
using Microsoft.AspNetCore.Http;
using RaftMall.Contract;
using RaftMall.Node.Api;
using RaftMall.Node.Consensus;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>Gateway: what a write's fate and a read barrier's failure look like to a client.</summary>
public sealed class GatewayTests
{
    private readonly Node _node = new(c => c.MaxWritesPerEntry = 1);

    [Theory]
    [InlineData("unknown", 503, ProblemCodes.OutcomeUnknown)]
    [InlineData("not-leader", 503, ProblemCodes.NotLeader)]
    [InlineData("applied", 200, null)]
    public async Task A_writes_fate_is_its_answer(string fate, int status, string? code)
    {
        _node.Consensus.Answer = _ => fate switch
        {
            "unknown" => new ProposeOutcome.Unknown("leadership was lost while the write waited for commit; it may still commit"),
            "not-leader" => new ProposeOutcome.NotLeader(),
            _ => null,
        };
        var (gateway, batcher) = Gateway();
        var context = Context("");

        var result = await gateway.WriteAsync(context.Request, new KvPut("k", "v", null), r => Results.Ok(((KvResult)r).Entry.Value));
        await result.ExecuteAsync(context);

        Assert.Equal(status, context.Response.StatusCode);
        if (code is not null)
        {
            Assert.Equal(code, Problem(context).GetProperty("code").GetString());
            Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
            Assert.Null(_node.State.Read(s => s.GetKv("k")));
        }
        else
        {
            Assert.Equal("1", context.Response.Headers[RaftMallHeaders.AppliedIndex].ToString());
        }
        batcher.Dispose();
    }

    [Fact]
    public async Task A_read_whose_barrier_fails_answers_no_leader_and_a_local_read_needs_no_barrier()
    {
        _node.Consensus.ReadBarrierFailure = new NoQuorumException("NotLeaderException");
        var (gateway, batcher) = Gateway();

        var context = Context("");
        await (await gateway.ReadBarrierAsync(context.Request))!.ExecuteAsync(context);
        Assert.Equal(503, context.Response.StatusCode);
        Assert.Contains("NotLeaderException", Problem(context).GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Null(await gateway.ReadBarrierAsync(Context("?consistency=local").Request));
        Assert.Equal(1, _node.Consensus.ReadBarriers);
        Assert.NotNull(await gateway.ReadBarrierAsync(Context("?consistency=eventual").Request)); // a 400
        batcher.Dispose();
    }

    private (Gateway, WriteBatcher) Gateway()
    {
        var batcher = new WriteBatcher(_node.Proposer, _node.Settings, Node.Log<WriteBatcher>());
        return (new Gateway(batcher, _node.Consensus, _node.State, _node.Settings, _node.Time), batcher);
    }

    private static DefaultHttpContext Context(string query)
    {
        var context = Node.HttpContext();
        context.Request.QueryString = new QueryString(query);
        return context;
    }

    private static JsonElement Problem(HttpContext context) => JsonDocument.Parse(Node.ResponseBody(context)).RootElement;
}
