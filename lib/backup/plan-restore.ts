import { lstat, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { CanopyError } from "../errors";
import { assertName } from "../inventory/names";
import { assertNameFree } from "../inventory/paths";
import { readQcow2Header } from "../qcow2/header";
import { chainFolder, findBackup } from "./repository";
import type { BackupRecord } from "./types";

/**
 * What a restore will do, before it does it: which backup, which files it reads, where the result goes and,
 * for a restore in place, exactly what it replaces (the caller shows this and asks for confirmation).
 *
 * Every restore writes a new standalone qcow2 file (qemu-img convert of the chosen backup reads through the
 * backup chain), checks it against the chain (qemu-img compare), and only then puts it in place.
 */

export type RestoreTarget =
  /** A new qcow2 file anywhere (its folder must exist). */
  | { kind: "file"; path: string }
  /** A new disk: `<storageRoot>/<disk>/<layer>.qcow2`, the folder new or empty. */
  | { kind: "new-disk"; storageRoot: string; disk: string; layer: string }
  /** A new branch of an existing disk: a standalone layer `<layer>.qcow2` in its folder. */
  | { kind: "new-layer"; diskFolder: string; layer: string }
  /** Over the active layer of a stopped disk: its content becomes the backup's. */
  | { kind: "in-place"; diskFolder: string; activeLayer: string };

export interface ReplacedLayer {
  layer: string;
  file: string;
  /** Bytes the file takes now; its content is lost unless the restore keeps it. */
  fileSize: number;
  virtualSize: number;
  /** Its backing file now; after the restore the layer stands alone and no longer reads it. */
  backingFile: string | null;
  /** Bitmaps on it now; the restored file has none, so the next backup of the disk is full. */
  bitmaps: string[];
}

export interface RestorePlan {
  disk: string;
  chainId: string;
  backup: BackupRecord;
  /** The backup file (absolute); its backing chain is the files before it. */
  source: string;
  /** The chain's files the restore reads, full first, up to the backup. */
  chainFiles: string[];
  /** Checksums of chainFiles, to check before reading. */
  chainSha256: string[];
  target: RestoreTarget;
  /** The file the restore produces (absolute). */
  output: string;
  replaces: ReplacedLayer | null;
  warnings: string[];
  summary: string;
}

export async function planRestore(input: {
  repoRoot: string;
  disk: string;
  backupId: string;
  target: RestoreTarget;
}): Promise<RestorePlan> {
  const { chain, index } = await findBackup(input.repoRoot, input.disk, input.backupId);
  const folder = chainFolder(input.repoRoot, input.disk, chain.chainId);
  const upTo = chain.backups.slice(0, index + 1);
  const backup = chain.backups[index]!;
  const warnings = upTo
    .filter((b) => b.verify.status !== "ok")
    .map((b) => `backup ${b.id} is ${b.verify.status === "failed" ? "known bad" : "not verified"}: its checksum is checked before restoring`);
  const target = input.target;
  let output: string;
  let replaces: ReplacedLayer | null = null;
  switch (target.kind) {
    case "file":
      output = path.resolve(target.path);
      await mustNotExist(output);
      break;
    case "new-disk": {
      assertName("disk", target.disk);
      const diskDir = path.resolve(target.storageRoot, target.disk);
      const found = await lstat(diskDir).catch(() => null);
      if (found && !found.isDirectory()) await assertNameFree(diskDir); // a link or a file: refused, naming it
      const entries = await readdir(diskDir).catch(() => [] as string[]);
      if (entries.length) throw new CanopyError("refused", `disk folder ${diskDir} already exists and is not empty`);
      output = path.join(diskDir, `${assertName("layer", target.layer)}.qcow2`);
      break;
    }
    case "new-layer":
      output = path.join(path.resolve(target.diskFolder), `${assertName("layer", target.layer)}.qcow2`);
      await mustNotExist(output);
      break;
    case "in-place":
      output = path.join(path.resolve(target.diskFolder), `${assertName("layer", target.activeLayer)}.qcow2`);
      replaces = await describeReplaced(target.diskFolder, target.activeLayer, output);
      warnings.push(
        `the current content of ${target.activeLayer} (${replaces.fileSize} bytes on disk) is replaced by backup ${backup.id}`,
        ...(replaces.backingFile ? [`${target.activeLayer} will stand alone: it no longer reads ${replaces.backingFile} (that layer stays)`] : []),
        ...(replaces.bitmaps.length ? [`its backup bitmaps go with it: the next backup of the disk is full`] : []),
      );
      break;
  }
  const summary =
    target.kind === "in-place"
      ? `replace the content of ${target.activeLayer} with backup ${backup.id} (${backup.pointInTime})`
      : `restore backup ${backup.id} (${backup.pointInTime}) to ${output}`;
  return {
    disk: input.disk,
    chainId: chain.chainId,
    backup,
    source: path.join(folder, backup.file),
    chainFiles: upTo.map((b) => path.join(folder, b.file)),
    chainSha256: upTo.map((b) => b.sha256),
    target,
    output,
    replaces,
    warnings,
    summary,
  };
}

/** A target that exists in any form is refused, a symbolic link too (even a dangling one: it points somewhere). */
async function mustNotExist(file: string): Promise<void> {
  await assertNameFree(file);
}

/** The active layer as it is now, refusing when another layer is stacked on it (it would read changed data). */
async function describeReplaced(diskFolder: string, layer: string, file: string): Promise<ReplacedLayer> {
  if ((await lstat(file).catch(() => null))?.isSymbolicLink()) {
    throw new CanopyError("refused", `layer ${layer} is a symbolic link; Canopy does not write through links`);
  }
  const header = await readQcow2Header(file).catch((err: Error) => {
    throw new CanopyError("not-found", `layer ${layer} cannot be read: ${err.message}`);
  });
  const st = await stat(file);
  const dependents: string[] = [];
  for (const name of (await readdir(diskFolder)).filter((n) => n.endsWith(".qcow2") && `${layer}.qcow2` !== n)) {
    const other = await readQcow2Header(path.join(diskFolder, name)).catch(() => null);
    if (other?.backingFile && path.resolve(diskFolder, other.backingFile) === path.resolve(file)) dependents.push(name);
  }
  if (dependents.length) {
    throw new CanopyError(
      "refused",
      `${dependents.join(", ")} ${dependents.length === 1 ? "is" : "are"} stacked on ${layer}: replacing its content would change ${dependents.length === 1 ? "it" : "them"} too; restore as a new layer instead`,
      { dependents },
    );
  }
  return {
    layer,
    file,
    fileSize: st.blocks * 512,
    virtualSize: header.virtualSize,
    backingFile: header.backingFile,
    bitmaps: header.bitmaps.map((b) => b.name),
  };
}
