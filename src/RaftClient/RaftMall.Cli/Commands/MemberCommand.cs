using System.CommandLine;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall member list|add|remove: the members of the active configuration, one change at a time on the leader.</summary>
public static class MemberCommand
{
    public static Command Build()
    {
        var member = new Command("member", "List, add and remove the cluster's members (the active Raft configuration)");

        var list = new Command("list", "Show the members as the answering node knows them, and the leader");
        list.SetRun(async (ctx, token) =>
        {
            var members = await ctx.Client.ListMembersAsync(token: token);
            ctx.Output(members, () => Render(members));
            return ExitCodes.Ok;
        });

        var address = new Argument<string>("address") { Description = "The new node's base address, e.g. http://127.0.0.1:7104; it must run and wait to be added" };
        var add = new Command("add", "Add a running node (started to join) as a member: the leader catches it up, then commits the new configuration") { address };
        add.SetRun(async (ctx, token) =>
        {
            var text = ctx.Parse.GetValue(address)!;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) throw new CliException(ExitCodes.Usage, $"'{text}' is not an address such as http://127.0.0.1:7104");
            var members = await ctx.WithProgressAsync($"adding {uri.Authority} (catching it up first)", () => ctx.Client.AddMemberAsync(uri, token));
            ctx.Output(members, () =>
            {
                CliContext.Info(members.Changed == true ? $"added {Markup.Escape(uri.Authority)}" : $"{Markup.Escape(uri.Authority)} already was a member");
                Render(members);
            });
            return ExitCodes.Ok;
        });

        var name = new Argument<string>("member") { Description = "The member's id (e.g. n4) or host:port" };
        var remove = new Command("remove", "Remove a member; removing the leader makes it resign first, and the next leader removes it") { name };
        remove.SetRun(async (ctx, token) =>
        {
            var target = ctx.Parse.GetValue(name)!;
            var members = await ctx.WithProgressAsync($"removing {target}", () => ctx.Client.RemoveMemberAsync(target, token));
            ctx.Output(members, () =>
            {
                CliContext.Info(members.Changed == true ? $"removed {Markup.Escape(target)}; stop its process and delete its data directory" : $"{Markup.Escape(target)} was not a member");
                Render(members);
            });
            return ExitCodes.Ok;
        });

        member.Add(list);
        member.Add(add);
        member.Add(remove);
        return member;
    }

    public static void Render(MemberList members)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("member", "address", "role", "member id");
        foreach (var m in members.Members)
        {
            // The member id is the one the directory binds to the address (node identity); "-" until the leader bound it.
            table.AddRow(Markup.Escape(m.NodeId), Markup.Escape(m.Address), m.Role == "leader" ? "[bold green]leader[/]" : m.Role ?? "-", Markup.Escape(m.MemberId ?? "-"));
        }
        AnsiConsole.Write(table);
        CliContext.Info(members.LeaderId is { } leader ? $"{members.Members.Length} members; leader: [bold green]{Markup.Escape(leader)}[/]" : $"{members.Members.Length} members; [yellow]no leader known[/]");
    }
}
