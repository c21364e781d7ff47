import { defineCommand, type CommandContext } from "./define-command";
import { formatBytes } from "./format";
import { removeBackups } from "../../backups/delete-backups";
import { listDiskBackups } from "../../backups/list-backups";
import { startRestore, type RestoreRequest } from "../../backups/restore";
import { startBackup } from "../../backups/start-backup";
import { startVerify } from "../../backups/verify";
import { listPolicies, setPolicy, type PolicyChange } from "../../backups/policy";
import { CanopyError } from "@/lib/errors";
import { cliActor } from "./actor";

/** Backups: the engine (lib/backup) run as Canopy jobs; see server/backups/. */

const background = { type: "boolean" as const, description: "queue the job for the worker and return at once" };
const str = (ctx: CommandContext, key: string) => (typeof ctx.options[key] === "string" ? (ctx.options[key] as string) : undefined);

export const backup = defineCommand({
  name: "backup",
  usage: "<disk> [--full] [--background] [--json]",
  summary: "Back a disk up (incremental when possible; prints the backup's id, kind and reason)",
  positionals: [1, 1],
  options: { full: { type: "boolean", description: "force a full backup (a new chain)" }, background },
  async run(ctx) {
    const r = await startBackup(ctx.positionals[0]!, {
      full: ctx.options.full === true,
      background: ctx.options.background === true,
      requestedBy: cliActor(),
    });
    const { jobSummary: _drop, ...result } = (r.result ?? {}) as Record<string, unknown>;
    return { job: r.job, backup: r.result ? result : null };
  },
  human: (r) => {
    type Made = { backupId: string; kind: string; reason: string; reasonDetail: string; fileSize: number; compressed: boolean };
    const b = r.backup as Made | null;
    if (!b) return `backup queued (job ${r.job.id})`;
    return `${b.backupId} ${b.kind} (${b.reason}: ${b.reasonDetail}) ${formatBytes(b.fileSize)}${b.compressed ? " compressed" : ""} (job ${r.job.id})`;
  },
});

export const backups = defineCommand({
  name: "backups",
  usage: "<disk> [--json]",
  summary: "List a disk's backups, chain by chain",
  positionals: [1, 1],
  run: (ctx) => listDiskBackups(ctx.positionals[0]!),
  human: (r) => {
    if (!r.chains.length) return `${r.disk}: no backups`;
    const lines: string[] = [];
    for (const c of r.chains) {
      lines.push(`chain ${c.chainId} (${c.incrementals}/${r.policy.maxIncrementals} incrementals)`);
      for (const b of c.backups) {
        lines.push(
          `  ${b.id}  ${b.kind.padEnd(11)} ${b.reason.padEnd(28)} ${b.pointInTime}  ${formatBytes(b.fileSize).padStart(9)}  verify ${b.verifyStatus}${b.compressed ? "  compressed" : ""}`,
        );
      }
      if (c.attempt) lines.push(`  ! unfinished attempt ${c.attempt.id} (${c.attempt.state}): the next backup is full`);
    }
    return lines.join("\n");
  },
});

export const verify = defineCommand({
  name: "verify",
  usage: "<backup-id> [--json]",
  summary: "Re-check a backup and its chain (checksums, headers, qemu-img check)",
  positionals: [1, 1],
  options: { background },
  async run(ctx) {
    const r = await startVerify(ctx.positionals[0]!, { requestedBy: cliActor(), background: ctx.options.background === true });
    return { job: r.job, verify: r.result };
  },
  human: (r) =>
    r.verify
      ? [`${r.verify.backupId}: ${r.verify.status}`, ...r.verify.chain.filter((b) => b.status !== "ok").map((b) => `  ${b.id}: ${b.status} ${b.problems.join("; ")}`)].join("\n")
      : `verify queued (job ${r.job.id})`,
  // A check that failed is a failed command, as it is for a script: the chain's every check, since verify reads
  // the whole chain (a backup restores through the full and incrementals below it).
  exitCode: (r) => (r.verify && !(r.verify.ok && r.verify.status === "ok") ? 1 : 0),
});

export const restoreCommand = defineCommand({
  name: "restore",
  usage: "<backup-id> (--to <file> | --as-disk <name> | --branch [--layer <name>] | --in-place) [--json]",
  summary: "Restore a backup to a file, a new disk, a new branch of its disk, or over a stopped disk's active layer",
  positionals: [1, 1],
  options: {
    to: { type: "string", description: "a new qcow2 file" },
    "as-disk": { type: "string", description: "a new disk folder under the storage root" },
    branch: { type: "boolean", description: "a new standalone layer of the same disk" },
    layer: { type: "string", description: "the new layer's name with --branch" },
    "in-place": { type: "boolean", description: "over the active layer of the stopped disk" },
    background,
  },
  async run(ctx) {
    const picked: RestoreRequest[] = [];
    const to = str(ctx, "to");
    const asDisk = str(ctx, "as-disk");
    if (to !== undefined) picked.push({ kind: "file", path: to });
    if (asDisk !== undefined) picked.push({ kind: "as-disk", name: asDisk });
    if (ctx.options.branch === true) picked.push({ kind: "branch", layer: str(ctx, "layer") });
    if (ctx.options["in-place"] === true) picked.push({ kind: "in-place" });
    if (picked.length !== 1) throw new CanopyError("invalid-input", "give exactly one of --to <file>, --as-disk <name>, --branch, --in-place");
    const r = await startRestore(ctx.positionals[0]!, picked[0]!, { requestedBy: cliActor(), background: ctx.options.background === true });
    return { job: r.job, restore: r.result };
  },
  human: (r) => (r.restore ? `restored ${r.restore.backupId} to ${r.restore.output} (job ${r.job.id})` : `restore queued (job ${r.job.id})`),
});

export const backupDelete = defineCommand({
  name: "backup-delete",
  usage: "<backup-id> [--dry-run] [--json]",
  summary: "Delete a backup (with everything stacked on it; never a chain without a newer full)",
  positionals: [1, 1],
  options: { "dry-run": { type: "boolean", description: "print what would go and change nothing" } },
  run: (ctx) => removeBackups([ctx.positionals[0]!], { dryRun: ctx.options["dry-run"] === true, requestedBy: cliActor() }),
  human: (r) => `${r.dryRun ? "would " : ""}${r.plan.summary}`,
});

function intOption(ctx: CommandContext, key: string): number | null | undefined {
  const v = str(ctx, key);
  if (v === undefined) return undefined;
  if (v === "" || v === "none" || v === "default") return null;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CanopyError("invalid-input", `--${key} must be a whole number (or "default")`);
  return n;
}

export const policy = defineCommand({
  name: "policy",
  usage: "[--disk <disk>] [--max-incrementals N] [--schedule CRON] [--keep-chains N] [--compress true|false] [--json]",
  summary: 'Show or set the backup policy (global, or a disk\'s override; "default" clears a field)',
  positionals: [0, 0],
  options: {
    disk: { type: "string", description: "set or show this disk's override" },
    "max-incrementals": { type: "string", description: "incrementals after a full before the next is full (default 63)" },
    schedule: { type: "string", description: 'cron: "minute hour day month weekday"; "" or "none" for no schedule' },
    "keep-chains": { type: "string", description: "keep the newest N chains (retention after each backup)" },
    compress: { type: "string", description: "true or false" },
  },
  async run(ctx) {
    const disk = str(ctx, "disk") ?? null;
    const change: PolicyChange = {};
    const max = intOption(ctx, "max-incrementals");
    const keep = intOption(ctx, "keep-chains");
    if (max !== undefined) change.maxIncrementals = max;
    if (keep !== undefined) change.keepChains = keep;
    const schedule = str(ctx, "schedule");
    if (schedule !== undefined) change.schedule = ["", "none", "default"].includes(schedule) ? null : schedule;
    const compress = str(ctx, "compress");
    if (compress !== undefined) change.compress = compress === "default" ? null : compress === "true";
    const changed = Object.keys(change).length > 0;
    const effective = changed ? await setPolicy(disk, change) : null;
    const all = await listPolicies();
    const shown = effective ?? (disk ? (all.disks.find((d) => d.disk === disk)?.effective ?? { ...all.global, disk }) : all.global);
    return { changed, policy: shown, global: all.global, disks: all.disks };
  },
  human: (r) => {
    const p = r.policy;
    return [
      `${p.disk ? `disk ${p.disk}` : "global"}${r.changed ? " (updated)" : ""}:`,
      `  max incrementals: ${p.maxIncrementals}`,
      `  schedule: ${p.schedule ?? "none"}`,
      `  keep chains: ${p.keepChains ?? "all"}`,
      `  compress: ${p.compress}`,
      ...(p.overrides.length ? [`  overrides: ${p.overrides.join(", ")}`] : []),
    ].join("\n");
  },
});
