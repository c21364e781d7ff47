import { randomBytes } from "node:crypto";
import type { BackupKind } from "./types";

/**
 * Every name the engine makes: chain ids, backup ids, file names, the chain's bitmap, QEMU node and job ids.
 * Chain ids start with the UTC time so that sorting them sorts chains oldest first, even without a manifest.
 */

export const MANIFEST_FILE = "manifest.json";
export const BITMAP_PREFIX = "canopy-";
export const CHAIN_ID = /^\d{8}T\d{6}\d{3}Z-[0-9a-f]{6}$/;

export function newChainId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

export function isChainId(id: string): boolean {
  return CHAIN_ID.test(id);
}

export function backupId(chainId: string, seq: number): string {
  return `${chainId}-${String(seq).padStart(4, "0")}`;
}

export function backupFileName(seq: number, kind: BackupKind): string {
  return `${String(seq).padStart(4, "0")}-${kind}.qcow2`;
}

/** The file a backup is written to before it is complete; a dot file, so nothing mistakes it for a backup. */
export function partialFileName(file: string): string {
  return `.${file}.partial`;
}

export function chainBitmapName(chainId: string): string {
  return `${BITMAP_PREFIX}${chainId}`;
}

export function isCanopyBitmap(name: string): boolean {
  return name.startsWith(BITMAP_PREFIX);
}

/** QEMU node names and job ids: a letter first, at most 31 characters, unique per run. */
export function qemuId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}
