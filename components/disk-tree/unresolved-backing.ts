import type { Problem } from "@/lib/inventory/types";
import type { DiskTreeView, LayerView } from "@/lib/inventory/views";

/** Why a layer with a backing file has no parent in the tree. */
export type UnresolvedReason = "missing" | "outside-root" | "loop" | "unresolved";

/**
 * The scan leaves `parent` null when it cannot or must not follow a backing file. A backing file that is one
 * of this disk's own layers means the scan cut a loop there; otherwise the layer's problem says why.
 */
export function unresolvedReason(child: LayerView, view: DiskTreeView, problems: Problem[]): UnresolvedReason {
  const backing = child.backingFile ?? "";
  const target = resolveRelative(child.file, backing);
  // Absolute backing paths: the pages do not know the root's absolute path, so match on the root-relative tail.
  const isOwnLayer = (file: string) => file === target || (backing.startsWith("/") && backing.endsWith(`/${file}`));
  if (backing && view.layers.some((l) => isOwnLayer(l.file))) return "loop";
  if (problems.some((p) => p.code === "backing-outside-root")) return "outside-root";
  if (problems.some((p) => p.code === "backing-missing")) return "missing";
  return "unresolved";
}

/** QEMU resolves a relative backing file against the overlay's folder; root-relative paths use "/". */
function resolveRelative(file: string, backing: string): string | null {
  if (backing.startsWith("/") || backing.includes(":")) return null;
  const parts = file.split("/").slice(0, -1);
  for (const seg of backing.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join("/");
}
