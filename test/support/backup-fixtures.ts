import type { BackupRecord, ChainManifest } from "@/lib/backup/types";

/**
 * Manifests for the pure backup tests, shaped exactly as the engine writes them. Not a test file itself
 * (vitest runs *.test.ts only).
 */

export const GiB = 1024 ** 3;
let clock = Date.UTC(2026, 0, 1);

export function chainId(n: number): string {
  return `2026010${n}T000000000Z-${String(n).padStart(6, "0")}`;
}

export function makeChain(
  n: number,
  incrementals: number,
  opts: { sourceLayer?: string; verify?: (seq: number) => BackupRecord["verify"]["status"]; virtualSize?: number } = {},
): ChainManifest {
  const id = chainId(n);
  const backups: BackupRecord[] = [];
  for (let seq = 0; seq <= incrementals; seq++) {
    const prev = backups[seq - 1];
    const at = new Date((clock += 60_000)).toISOString();
    backups.push({
      id: `${id}-${String(seq).padStart(4, "0")}`,
      seq,
      kind: seq === 0 ? "full" : "incremental",
      reason: seq === 0 ? "first-backup" : "incremental",
      reasonDetail: "",
      pointInTime: at,
      completedAt: at,
      file: `${String(seq).padStart(4, "0")}-${seq === 0 ? "full" : "incremental"}.qcow2`,
      backingFile: prev?.file ?? null,
      parentId: prev?.id ?? null,
      virtualSize: opts.virtualSize ?? GiB,
      fileSize: 1000 + seq,
      sha256: "a".repeat(64),
      compressed: false,
      bitmap: `canopy-${id}`,
      sourceLayer: opts.sourceLayer ?? "top",
      sourceLayers: [opts.sourceLayer ?? "top"],
      verify: { status: opts.verify?.(seq) ?? "ok", at, problems: [] },
    });
  }
  return {
    format: "canopy-backup-chain",
    version: 1,
    disk: "vm",
    chainId: id,
    bitmap: `canopy-${id}`,
    createdAt: backups[0]?.pointInTime ?? new Date(clock).toISOString(),
    backups,
    attempt: null,
  };
}
