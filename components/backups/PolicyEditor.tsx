"use client";

import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import type { PolicyView, PolicyFields } from "@/server/backups/policy";
import { setPolicyAction } from "@/server/actions/backups";
import { Button } from "@/components/actions/Button";

interface Draft {
  maxIncrementals: string;
  schedule: string;
  keepChains: string;
  compress: "" | "true" | "false";
}

const toDraft = (f: PolicyFields, global = false): Draft => ({
  maxIncrementals: f.maxIncrementals?.toString() ?? "",
  schedule: f.schedule ?? "",
  keepChains: f.keepChains?.toString() ?? "",
  compress: f.compress === null ? (global ? "false" : "") : f.compress ? "true" : "false",
});

const num = (s: string) => (s.trim() === "" ? null : Number(s));

/** The global default and the per-disk overrides, each a row of the same four fields. */
export function PolicyEditor({ policies, disks }: { policies: PolicyView; disks: string[] }) {
  const router = useRouter();
  const overridden = new Set(policies.disks.map((d) => d.disk));
  const [adding, setAdding] = useState(disks.find((d) => !overridden.has(d)) ?? "");
  const [extra, setExtra] = useState<string[]>([]);
  const globalFields: PolicyFields = {
    maxIncrementals: policies.global.maxIncrementals,
    schedule: policies.global.schedule,
    keepChains: policies.global.keepChains,
    compress: policies.global.compress,
  };
  const rows = [...policies.disks.map((d) => ({ disk: d.disk, fields: d.fields })), ...extra.filter((d) => !overridden.has(d)).map((disk) => ({ disk, fields: { maxIncrementals: null, schedule: null, keepChains: null, compress: null } }))];
  return (
    <div className="space-y-6">
      <section className="rounded-lg border border-slate-200 bg-white">
        <h2 className="border-b border-slate-100 px-4 py-2.5 text-sm font-semibold">Default (every disk)</h2>
        <PolicyRow disk={null} initial={toDraft(globalFields, true)} placeholder={null} onSaved={() => router.refresh()} />
      </section>
      <section className="rounded-lg border border-slate-200 bg-white">
        <h2 className="border-b border-slate-100 px-4 py-2.5 text-sm font-semibold">Per-disk overrides</h2>
        {rows.length === 0 ? <p className="px-4 py-3 text-sm text-slate-600">No disk overrides the default.</p> : null}
        {rows.map((r) => (
          <div key={r.disk} className="border-b border-slate-100 last:border-b-0">
            <p className="px-4 pt-3 font-mono text-sm font-medium">{r.disk}</p>
            <PolicyRow
              disk={r.disk}
              initial={toDraft(r.fields)}
              placeholder={toDraft(globalFields)}
              onSaved={() => router.refresh()}
              onRemove={async () => {
                // Every field cleared: the server drops an override that overrides nothing.
                const res = await setPolicyAction({ disk: r.disk, maxIncrementals: null, schedule: null, keepChains: null, compress: null });
                if (!res.ok) return res.error.message;
                setExtra((list) => list.filter((d) => d !== r.disk));
                router.refresh();
                return null;
              }}
            />
          </div>
        ))}
        <div className="flex items-center gap-2 border-t border-slate-100 px-4 py-3">
          <select aria-label="Disk to override" value={adding} onChange={(e) => setAdding(e.target.value)} className="rounded border border-slate-300 px-2 py-1 text-sm">
            {disks.filter((d) => !overridden.has(d) && !extra.includes(d)).map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
          <Button
            disabled={!adding}
            onClick={() => {
              const added = [...extra, adding];
              setExtra(added);
              setAdding(disks.find((d) => !overridden.has(d) && !added.includes(d)) ?? "");
            }}
          >
            Add override
          </Button>
        </div>
      </section>
      <p className="text-xs text-slate-500">
        Schedule: a cron expression of 5 fields, minute hour day-of-month month day-of-week (e.g. <code>0 2 * * *</code> every night at 02:00, <code>*/30 * * * *</code>{" "}
        every half hour), in the worker&apos;s local time. Retention runs after each successful backup and deletes whole chains only, never one
        the next incremental builds on. Compression writes each backup file with qcow2&apos;s zstd compression (reading
        it needs QEMU 5.1 or newer); it saves space on compressible data and costs time while backing up.
      </p>
    </div>
  );
}

interface PolicyRowProps {
  disk: string | null;
  initial: Draft;
  placeholder: Draft | null;
  onSaved(): void;
  /** For a disk's override: clears it (the disk follows the default again); resolves to an error message or null. */
  onRemove?: () => Promise<string | null>;
}

function PolicyRow({ disk, initial, placeholder, onSaved, onRemove }: PolicyRowProps) {
  const [d, setD] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [pending, startTransition] = useTransition();
  const field = (key: keyof Draft, label: string, hint: string, width = "w-24") => (
    <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
      {label}
      <input
        aria-label={`${label}${disk ? ` (${disk})` : ""}`}
        value={d[key]}
        placeholder={placeholder ? placeholder[key] || hint : hint}
        onChange={(e) => (setSaved(false), setD({ ...d, [key]: e.target.value }))}
        className={`${width} rounded border border-slate-300 px-2 py-1 font-mono text-sm text-slate-900`}
      />
    </label>
  );
  const save = () =>
    startTransition(async () => {
      setError(null);
      const r = await setPolicyAction({
        disk,
        maxIncrementals: num(d.maxIncrementals) ?? (disk ? null : 63),
        schedule: d.schedule.trim() || null,
        keepChains: num(d.keepChains),
        compress: d.compress === "" ? null : d.compress === "true",
      });
      if (!r.ok) return setError(r.error.message);
      setSaved(true);
      onSaved();
    });
  return (
    <div className="flex flex-wrap items-end gap-4 px-4 py-3">
      {field("maxIncrementals", "Max incrementals", "63")}
      {field("schedule", "Schedule (cron)", "none", "w-40")}
      {field("keepChains", "Keep chains", "all")}
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Compress
        <select
          aria-label={`Compress${disk ? ` (${disk})` : ""}`}
          value={d.compress}
          onChange={(e) => setD({ ...d, compress: e.target.value as Draft["compress"] })}
          className="rounded border border-slate-300 px-2 py-1 text-sm"
        >
          {disk ? <option value="">as default</option> : null}
          <option value="true">yes</option>
          <option value="false">no</option>
        </select>
      </label>
      <Button variant="primary" disabled={pending} onClick={save}>
        Save
      </Button>
      {disk && onRemove ? (
        <Button disabled={pending} onClick={() => startTransition(async () => setError(await onRemove()))}>
          Remove override
        </Button>
      ) : null}
      {saved ? <span className="text-xs text-emerald-700">Saved</span> : null}
      {error ? (
        <p role="alert" className="w-full text-sm text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}
