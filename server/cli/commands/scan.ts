import { defineCommand } from "./define-command";
import { scanAndRecord } from "../../sync-inventory";
import { listDisks } from "../../disks";
import { loadConfig } from "../../config";
import { formatBytes, formatProblems } from "./format";

export const scan = defineCommand({
  name: "scan",
  usage: "[--json]",
  summary: "Read every disk under the storage root, record it, and list what was found",
  positionals: [0, 0],
  async run() {
    const root = loadConfig().storageRoot;
    const result = await scanAndRecord(root);
    return { root: result.root, durationMs: result.durationMs, sharedFiles: result.sharedFiles, problems: result.problems, disks: await listDisks() };
  },
  human(r) {
    const lines = [`${r.root}: ${r.disks.length} disk(s), scanned in ${r.durationMs} ms`];
    if (r.problems.length) lines.push(formatProblems(r.problems));
    for (const d of r.disks) {
      lines.push(
        `${d.name}  ${d.status}  active ${d.activeLayer ?? "-"}  ${d.layerCount} layer(s)  ${d.branchCount} branch(es)  depth ${d.depth}  ${formatBytes(d.usedBytes)} used of ${formatBytes(d.virtualSize)}`,
      );
      if (d.problems.length) lines.push(formatProblems(d.problems));
    }
    return lines.join("\n");
  },
});
