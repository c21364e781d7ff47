import "server-only";
import { CanopyError } from "@/lib/errors";
import { DEFAULT_POLICY } from "@/lib/backup";
import { assertName } from "@/lib/inventory/names";
import { getDb } from "../db";
import { parseSavableCron } from "@/lib/backup/cron";

/**
 * Backup policy: one global default row (diskName "*") and optional per-disk overrides; a null field of an
 * override means "as the default".
 */

export const GLOBAL = "*";

export interface PolicyFields {
  maxIncrementals: number | null;
  schedule: string | null;
  keepChains: number | null;
  compress: boolean | null;
}

export interface EffectivePolicy {
  disk: string | null;
  maxIncrementals: number;
  schedule: string | null;
  keepChains: number | null;
  compress: boolean;
  /** Which fields the disk overrides (empty for the global policy). */
  overrides: Array<keyof PolicyFields>;
}

export interface PolicyView {
  global: EffectivePolicy;
  disks: Array<{ disk: string; fields: PolicyFields; effective: EffectivePolicy }>;
}

const FIELDS: Array<keyof PolicyFields> = ["maxIncrementals", "schedule", "keepChains", "compress"];

function fieldsOf(row: { maxIncrementals: number | null; schedule: string | null; keepChains: number | null; compress: boolean | null } | null): PolicyFields {
  return {
    maxIncrementals: row?.maxIncrementals ?? null,
    schedule: row?.schedule ?? null,
    keepChains: row?.keepChains ?? null,
    compress: row?.compress ?? null,
  };
}

function combine(global: PolicyFields, disk: PolicyFields | null, name: string | null): EffectivePolicy {
  const pick = <K extends keyof PolicyFields>(k: K): PolicyFields[K] => (disk && disk[k] !== null ? disk[k] : global[k]);
  return {
    disk: name,
    maxIncrementals: pick("maxIncrementals") ?? DEFAULT_POLICY.maxIncrementals,
    schedule: pick("schedule"),
    keepChains: pick("keepChains"),
    compress: pick("compress") ?? false,
    overrides: disk ? FIELDS.filter((k) => disk[k] !== null) : [],
  };
}

export async function effectivePolicy(disk: string | null): Promise<EffectivePolicy> {
  const db = getDb();
  const global = fieldsOf(await db.backupPolicy.findUnique({ where: { diskName: GLOBAL } }));
  const own = disk ? await db.backupPolicy.findUnique({ where: { diskName: disk } }) : null;
  return combine(global, own ? fieldsOf(own) : null, disk);
}

export async function listPolicies(): Promise<PolicyView> {
  const rows = await getDb().backupPolicy.findMany({ orderBy: { diskName: "asc" } });
  const global = fieldsOf(rows.find((r) => r.diskName === GLOBAL) ?? null);
  return {
    global: combine(global, null, null),
    disks: rows
      .filter((r) => r.diskName !== GLOBAL)
      .map((r) => ({ disk: r.diskName, fields: fieldsOf(r), effective: combine(global, fieldsOf(r), r.diskName) })),
  };
}

/** Only the fields given change; `null` clears a field (a disk then follows the default again). */
/** The policy page's data: every policy, and the names of the disks an override can be made for. */
export async function policyPageData(): Promise<{ policies: PolicyView; disks: string[] }> {
  const [policies, disks] = await Promise.all([
    listPolicies(),
    getDb().disk.findMany({ select: { name: true }, orderBy: { name: "asc" } }),
  ]);
  return { policies, disks: disks.map((d) => d.name) };
}

export type PolicyChange = Partial<PolicyFields>;

export function validatePolicyChange(change: PolicyChange): void {
  if (change.maxIncrementals != null && (!Number.isInteger(change.maxIncrementals) || change.maxIncrementals < 0 || change.maxIncrementals > 10_000)) {
    throw new CanopyError("invalid-input", `--max-incrementals must be a whole number from 0 to 10000 (got ${change.maxIncrementals})`);
  }
  if (change.keepChains != null && (!Number.isInteger(change.keepChains) || change.keepChains < 1 || change.keepChains > 10_000)) {
    throw new CanopyError("invalid-input", `--keep-chains must be a whole number from 1 to 10000 (got ${change.keepChains})`);
  }
  if (change.schedule != null && change.schedule !== "") parseSavableCron(change.schedule);
}

export async function setPolicy(disk: string | null, change: PolicyChange): Promise<EffectivePolicy> {
  if (disk !== null) assertName("disk", disk);
  validatePolicyChange(change);
  const data: Partial<PolicyFields> = {};
  for (const k of FIELDS) {
    if (change[k] === undefined) continue;
    (data as Record<string, unknown>)[k] = k === "schedule" && change.schedule === "" ? null : change[k];
  }
  const diskName = disk ?? GLOBAL;
  const row = await getDb().backupPolicy.upsert({ where: { diskName }, create: { diskName, ...data }, update: data });
  // A disk's override with every field cleared overrides nothing: it goes, so lists show only real overrides.
  if (disk !== null && FIELDS.every((k) => row[k] === null)) await getDb().backupPolicy.deleteMany({ where: { diskName } });
  return effectivePolicy(disk);
}

/** Every disk whose effective policy has a schedule (the default's applies to every disk without an override). */
export async function scheduledDisks(disks: string[]): Promise<Array<{ disk: string; schedule: string }>> {
  const out: Array<{ disk: string; schedule: string }> = [];
  for (const disk of disks) {
    const p = await effectivePolicy(disk);
    if (p.schedule) out.push({ disk, schedule: p.schedule });
  }
  return out;
}
