import { CanopyError } from "../../errors";
import { executeStep } from "../../ops/execute";
import type { PlanStep } from "../../ops/types";
import { QmpError } from "../../qmp/errors";
import { callOptions, type LiveStepContext, type LiveStepResult, type Routing } from "../context";
import { refused } from "../errors";
import { usersOf } from "../inspect";

type DeleteFile = Extract<PlanStep, { kind: "delete-file" }>;

/**
 * delete-file on a running disk: a layer QEMU still has open is closed first (blockdev-del), and only when no
 * node, export or device uses it; then the offline executor's own guard (no header names the file) and the
 * unlink. A layer in use is refused, with its users named.
 */
export async function deleteFileLive(step: DeleteFile, ctx: LiveStepContext, r: Routing): Promise<LiveStepResult> {
  const node = r.nodeOf(step.layer);
  if (node) {
    const users = usersOf(r.view, node.name).map((u) => (u.includes(" ") ? u : r.describe(u)));
    if (users.length) {
      throw refused(
        `not deleting ${step.layer}: the running QEMU still reads it (${users.join(", ")} ${users.length > 1 ? "use" : "uses"} it). Nothing was changed`,
        users,
      );
    }
    try {
      await ctx.qmp.execute("blockdev-del", { "node-name": node.name }, callOptions(ctx));
    } catch (err) {
      if (err instanceof QmpError) throw new CanopyError("failed", `not deleting ${step.layer}: QEMU would not close it: ${err.desc}`);
      throw err;
    }
  }
  return { mode: node ? "live" : "offline", notes: await executeStep(step, ctx) };
}
