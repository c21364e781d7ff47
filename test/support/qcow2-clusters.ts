import { run } from "@/lib/proc/run";

/**
 * Whether a qcow2 file really holds compressed clusters. QEMU 7.2's `qemu-img map` does not say so (its
 * extents of compressed clusters just lack an offset); `qemu-img check --output=json` counts them, for the
 * file itself (not its backing chain), and `qemu-img info` names the header's compression type.
 */

const TOOL = { timeoutMs: 120_000 };

export async function clusterCounts(file: string): Promise<{ allocated: number; compressed: number }> {
  const { stdout } = await run("qemu-img", ["check", "-U", "--output=json", file], { ...TOOL, okExitCodes: [0, 3] });
  const check = JSON.parse(stdout) as { "allocated-clusters"?: number; "compressed-clusters"?: number };
  return { allocated: check["allocated-clusters"] ?? 0, compressed: check["compressed-clusters"] ?? 0 };
}

export async function compressionType(file: string): Promise<string | undefined> {
  const { stdout } = await run("qemu-img", ["info", "-U", "--output=json", file], TOOL);
  const info = JSON.parse(stdout) as { "format-specific"?: { data?: { "compression-type"?: string } } };
  return info["format-specific"]?.data?.["compression-type"];
}
