using System.CommandLine;
using RaftMall.Cli;
using RaftMall.Cli.Commands;
using RaftMall.Cli.Demos;

// Every command is a static class whose Build() makes it: Commands/ (cluster, data, transactions, verify, the benchmarks
// over RaftMall.Bench) and Demos/.
var root = new RootCommand("""
    raftmall: run a local RaftMall cluster, write orders to it, and watch a failover lose nothing.

    Start here:  raftmall demo failover        (starts the cluster of ./cluster.yml if needed)
    Then:        raftmall cluster status | raftmall order place alice apple:1 | raftmall events tail
    Exit codes:  0 ok, 1 refused by the cluster, 2 bad arguments or cluster file, 3 no node answers, 4 a check failed
    """)
{
    ClusterCommands.Build(),
    MemberCommand.Build(),
    StockCommand.Build(),
    OrderCommand.Build(),
    KvCommand.Build(),
    EventsCommand.Build(),
    SubscriptionCommand.Build(),
    TxnCommands.Build(),
    DemoCommand.Build(),
    VerifyCommand.Build(),
    TxnBenchCommand.Build(),
    MessageBenchCommand.Build(),
    BenchCommand.Build(),
    CompletionCommand.Build(),
};
foreach (var option in CliContext.GlobalOptions) root.Options.Add(option);
return await root.Parse(args).InvokeAsync();
