import type { Problem } from "@/lib/inventory/types";

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function formatProblems(problems: Problem[], indent = "  "): string {
  return problems.map((p) => `${indent}! ${p.message}`).join("\n");
}
