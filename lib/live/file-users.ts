import path from "node:path";
import { scanStorageRoot } from "../inventory/scan";
import { layerFile } from "../ops/step-context";
import { canonical, type LiveStepContext } from "./context";

/** True when no layer file under the root still names `layer` as its backing file (headers only, no process). */
export async function nothingBacksOn(ctx: LiveStepContext, layer: string): Promise<boolean> {
  const target = await canonical(layerFile(ctx, layer));
  const scan = await scanStorageRoot(ctx.root);
  return !scan.disks.some((d) => {
    const byName = new Map(d.layers.map((l) => [l.name, l]));
    return d.layers.some((l) => {
      const parent = l.parent ? byName.get(l.parent) : undefined;
      return parent !== undefined && path.join(scan.root, parent.file) === target;
    });
  });
}
