import { QmpError } from "../qmp/errors";
import { callOptions, type LiveStepContext } from "./context";
import { inspectLive, usersOf } from "./inspect";

/**
 * Closes nodes that dropped out of the chain (merged by a commit, skipped by a pull). Only after the job has
 * fully ended (status null): before that QEMU still holds them. Each node holds a reference to the one below,
 * so they go top first; passes repeat while one closes another's last user. A node something else still uses
 * is left open and reported, and so is one QEMU will not let the monitor delete (a VM's -drive nodes).
 */
export async function releaseNodes(ctx: LiveStepContext, names: string[]): Promise<string[]> {
  let pending = [...new Set(names)];
  const refusedBy = new Map<string, string>();
  for (let progress = true; progress && pending.length; ) {
    progress = false;
    const view = await inspectLive(ctx.qmp, ctx.target, callOptions(ctx));
    const still: string[] = [];
    for (const name of pending) {
      if (!view.nodes.some((n) => n.name === name)) continue;
      const users = usersOf(view, name);
      if (users.length) {
        refusedBy.set(name, `${users.join(", ")} still use${users.length > 1 ? "" : "s"} it`);
        still.push(name);
        continue;
      }
      try {
        await ctx.qmp.execute("blockdev-del", { "node-name": name }, callOptions(ctx));
        progress = true;
      } catch (err) {
        if (!(err instanceof QmpError)) throw err;
        refusedBy.set(name, err.desc);
      }
    }
    pending = still;
  }
  if (refusedBy.size === 0) return [];
  const open = new Set((await inspectLive(ctx.qmp, ctx.target, callOptions(ctx))).nodes.map((n) => n.name));
  return [...refusedBy].filter(([name]) => open.has(name)).map(([name, why]) => `node ${name} left open: ${why}`);
}
