import Link from "next/link";
import type { DiskSummary } from "@/lib/inventory/views";
import { formatBytes } from "@/components/format/bytes";
import { ProblemBadge } from "@/components/problems/ProblemBadge";
import { sortProblems } from "@/components/problems/problem-meta";
import { Timestamp } from "@/components/ui/Timestamp";

export function diskHref(name: string): string {
  return `/disks/${encodeURIComponent(name)}`;
}

const th = "whitespace-nowrap px-3 first:pl-4 last:pr-4 py-2.5 text-left text-xs font-semibold text-slate-600";
const num = "text-right tabular-nums";

/** One row per disk. Plain server-rendered markup: sorting and filtering can be added when lists grow. */
export function DiskTable({ disks }: { disks: readonly DiskSummary[] }) {
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
      <table className="min-w-full divide-y divide-slate-200 text-sm">
        <thead className="bg-slate-50">
          <tr>
            <th scope="col" className={th}>Disk</th>
            <th scope="col" className={th}>Active layer</th>
            <th scope="col" className={`${th} ${num}`}>Layers</th>
            <th scope="col" className={`${th} ${num}`}>Branches</th>
            <th scope="col" className={`${th} ${num}`} title="Layers in the active chain, template included">
              Chain depth
            </th>
            <th scope="col" className={`${th} ${num}`}>Virtual size</th>
            <th scope="col" className={`${th} ${num}`} title="Disk's own layers on disk; shared templates not counted">
              Space used
            </th>
            <th scope="col" className={th}>Warnings</th>
            <th scope="col" className={th}>Last scanned</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {disks.map((d) => (
            <DiskRow key={d.name} disk={d} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DiskRow({ disk }: { disk: DiskSummary }) {
  const td = "whitespace-nowrap px-3 first:pl-4 last:pr-4 py-3 align-middle";
  return (
    <tr data-testid={`disk-row-${disk.name}`} className="hover:bg-slate-50">
      <td className={td}>
        <Link href={diskHref(disk.name)} className="whitespace-nowrap font-semibold text-sky-700 hover:text-sky-900 hover:underline">
          {disk.name}
        </Link>
      </td>
      <td className={td}>
        {disk.activeLayer ? (
          <span className="inline-flex items-center gap-1.5 whitespace-nowrap font-mono text-slate-800">
            <span className="size-2 rounded-full bg-emerald-500" aria-hidden="true" />
            {disk.activeLayer}
          </span>
        ) : (
          <span className="text-amber-700" title="No active leaf could be chosen (e.g. the chain is broken)">
            none
          </span>
        )}
      </td>
      <td className={`${td} ${num}`}>{disk.layerCount}</td>
      <td className={`${td} ${num}`}>{disk.branchCount}</td>
      <td className={`${td} ${num}`}>{disk.depth}</td>
      <td className={`${td} ${num}`}>{formatBytes(disk.virtualSize)}</td>
      <td className={`${td} ${num}`} title={`${disk.usedBytes.toLocaleString("en-US")} bytes`}>
        {formatBytes(disk.usedBytes)}
      </td>
      <td className={td}>
        {disk.problems.length === 0 ? (
          <span className="text-slate-400">None</span>
        ) : (
          <div className="flex max-w-56 flex-wrap gap-1">
            {sortProblems(disk.problems).map((p, i) => (
              <ProblemBadge key={`${p.code}-${p.layer ?? ""}-${i}`} problem={p} />
            ))}
          </div>
        )}
      </td>
      <td className={`${td} whitespace-nowrap text-slate-600`}>
        <Timestamp iso={disk.scannedAt} />
      </td>
    </tr>
  );
}
