import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "./durable";
import { MANIFEST_FILE } from "./names";
import type { ChainManifest } from "./types";

/**
 * The chain's manifest on disk: parsed strictly (a manifest someone edited by hand must not make the engine
 * guess), written atomically (temp + fsync + rename), so a crash leaves the old manifest or the new one.
 */

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not an ISO date");
const kind = z.enum(["full", "incremental"]);

const verifySchema = z.object({
  status: z.enum(["pending", "ok", "failed"]),
  at: isoDate.nullable(),
  problems: z.array(z.string()),
});

const backupSchema = z.object({
  id: z.string().min(1),
  seq: z.number().int().nonnegative(),
  kind,
  reason: z.enum([
    "first-backup",
    "requested-full",
    "disk-resized",
    "disk-reverted",
    "bitmap-missing",
    "bitmap-inconsistent",
    "previous-failed-or-unverified",
    "policy",
    "incremental",
  ]),
  reasonDetail: z.string(),
  pointInTime: isoDate,
  completedAt: isoDate,
  // A plain file name: a manifest must not point outside its own folder.
  file: z.string().regex(/^[^/\\]+\.qcow2$/),
  backingFile: z.string().regex(/^[^/\\]+\.qcow2$/).nullable(),
  parentId: z.string().nullable(),
  virtualSize: z.number().int().positive(),
  fileSize: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  // Absent in manifests from before compression: those backups were not compressed.
  compressed: z.boolean().default(false),
  bitmap: z.string().min(1),
  sourceLayer: z.string().min(1),
  sourceLayers: z.array(z.string()),
  verify: verifySchema,
});

const manifestSchema = z.object({
  format: z.literal("canopy-backup-chain"),
  version: z.literal(1),
  disk: z.string().min(1),
  chainId: z.string().min(1),
  bitmap: z.string().min(1),
  createdAt: isoDate,
  backups: z.array(backupSchema),
  attempt: z
    .object({
      id: z.string(),
      kind,
      startedAt: isoDate,
      state: z.enum(["running", "failed"]),
      endedAt: isoDate.nullable(),
      error: z.string().nullable(),
    })
    .nullable(),
});

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "ManifestError";
  }
}

/** Checks the shape and the chain's own consistency (order, parents, backing names). */
export function parseManifest(text: string, file = MANIFEST_FILE): ChainManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(file, `not JSON (${(err as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestError(file, `${issue?.path.join(".") || "(top)"}: ${issue?.message ?? "invalid"}`);
  }
  const manifest = parsed.data as ChainManifest;
  manifest.backups.forEach((b, i) => {
    const prev = manifest.backups[i - 1];
    const ok =
      b.seq === i &&
      (i === 0
        ? b.kind === "full" && b.parentId === null && b.backingFile === null
        : b.kind === "incremental" && b.parentId === prev?.id && b.backingFile === prev?.file);
    if (!ok) throw new ManifestError(file, `backup ${b.id} does not follow the one before it in the chain`);
  });
  return manifest;
}

export function manifestPath(chainFolder: string): string {
  return path.join(chainFolder, MANIFEST_FILE);
}

export async function readManifest(chainFolder: string): Promise<ChainManifest> {
  const file = manifestPath(chainFolder);
  return parseManifest(await readFile(file, "utf8"), file);
}

export async function writeManifest(chainFolder: string, manifest: ChainManifest): Promise<void> {
  await writeFileAtomic(manifestPath(chainFolder), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Reads, changes and writes back one manifest; the change gets a copy, so a throw leaves nothing half-done. */
export async function updateManifest(
  chainFolder: string,
  change: (manifest: ChainManifest) => ChainManifest | void,
): Promise<ChainManifest> {
  const current = await readManifest(chainFolder);
  const draft = structuredClone(current);
  const next = change(draft) ?? draft;
  await writeManifest(chainFolder, next);
  return next;
}
