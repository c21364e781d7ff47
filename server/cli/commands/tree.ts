import { defineCommand } from "./define-command";
import { resolveDiskFolder } from "@/lib/inventory/paths";
import { CanopyError } from "@/lib/errors";
import type { DiskTreeView, LayerView } from "@/lib/inventory/views";
import { rescanDisk } from "../../sync-inventory";
import { getDiskTree } from "../../disks";
import { loadConfig } from "../../config";
import { formatBytes, formatProblems } from "./format";

export const tree = defineCommand({
  name: "tree",
  usage: "<disk> [--json]",
  summary: "Show one disk's layer tree (rescanned now)",
  positionals: [1, 1],
  async run({ positionals }) {
    const root = loadConfig().storageRoot;
    const name = positionals[0]!;
    await resolveDiskFolder(root, name);
    await rescanDisk(root, name);
    const view = await getDiskTree(name);
    if (!view) throw new CanopyError("not-found", `no disk named "${name}"`);
    return view;
  },
  human: drawTree,
});

/** An indented tree, one layer a line, the active leaf marked. */
export function drawTree(view: DiskTreeView): string {
  const byParent = new Map<string | null, LayerView[]>();
  const names = new Set(view.layers.map((l) => l.name));
  for (const l of view.layers) {
    const key = l.parent && names.has(l.parent) ? l.parent : null;
    byParent.set(key, [...(byParent.get(key) ?? []), l]);
  }
  const lines = [view.name];
  const walk = (parent: string | null, prefix: string) => {
    const kids = byParent.get(parent) ?? [];
    kids.forEach((l, i) => {
      const last = i === kids.length - 1;
      const marks = [
        l.template ? "template" : null,
        l.active ? "ACTIVE" : l.children.length === 0 && !l.template ? "branch tip" : null,
        l.protected ? "protected" : null,
      ].filter(Boolean);
      lines.push(
        `${prefix}${last ? "└─ " : "├─ "}${l.name}  ${formatBytes(l.fileSize)}${marks.length ? `  [${marks.join(", ")}]` : ""}`,
      );
      walk(l.name, prefix + (last ? "   " : "│  "));
    });
  };
  walk(null, "");
  if (view.problems.length) lines.push("problems:", formatProblems(view.problems));
  return lines.join("\n");
}
