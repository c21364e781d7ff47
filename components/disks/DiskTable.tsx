"use client";

import Link from "next/link";
import { useId, useMemo, useState } from "react";
import type { DiskListEntry } from "@/server/disks";
import { formatBytes } from "@/components/format/bytes";
import { ProblemBadge } from "@/components/problems/ProblemBadge";
import { sortProblems } from "@/components/problems/problem-meta";
import { SearchIcon, SortIcon } from "@/components/ui/icons";
import { Timestamp } from "@/components/ui/Timestamp";
import { StatusBadge } from "./StatusBadge";
import { DEFAULT_SORT, filterDisks, nextSort, sortDisks, type DiskSort, type DiskSortKey } from "./disk-list";
import { diskHref } from "./disk-links";

const th = "whitespace-nowrap px-2.5 first:pl-4 last:pr-4 py-2.5 text-left text-xs font-semibold text-slate-600";
const num = "text-right tabular-nums";

interface Column {
  key: DiskSortKey;
  label: string;
  numeric?: boolean;
  title?: string;
}

const COLUMNS: Column[] = [
  { key: "name", label: "Disk" },
  { key: "status", label: "Status", title: "Whether the disk's VM is running" },
  { key: "activeLayer", label: "Active layer" },
  { key: "layerCount", label: "Layers", numeric: true },
  { key: "branchCount", label: "Branches", numeric: true },
  { key: "depth", label: "Depth", numeric: true, title: "Chain depth: layers in the active chain, template included" },
  { key: "virtualSize", label: "Virtual size", numeric: true },
  { key: "usedBytes", label: "Space used", numeric: true, title: "Disk's own layers on disk; shared templates not counted" },
  { key: "problems", label: "Warnings" },
  { key: "scannedAt", label: "Last scanned" },
];

/** One row per disk, with a search box and a sort on every column (both in the browser: the list is small). */
export function DiskTable({ disks }: { disks: readonly DiskListEntry[] }) {
  const [query, setQuery] = useState("");
  const [sort, setSort] = useState<DiskSort>(DEFAULT_SORT);
  const shown = useMemo(() => sortDisks(filterDisks(disks, query), sort), [disks, query, sort]);
  const searchId = useId();

  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="relative w-full max-w-xs">
          <label htmlFor={searchId} className="sr-only">
            Search disks
          </label>
          <SearchIcon className="pointer-events-none absolute left-2.5 top-1/2 size-4 -translate-y-1/2 text-slate-400" />
          <input
            id={searchId}
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="Search by disk, layer or warning"
            data-testid="disk-search"
            className="block w-full rounded-md border-0 bg-white py-1.5 pl-8 pr-3 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:outline-none focus:ring-2 focus:ring-inset focus:ring-sky-600"
          />
        </div>
        <p className="text-sm text-slate-500" aria-live="polite" data-testid="disk-count">
          {query.trim() ? `${shown.length} of ${disks.length} disks` : null}
        </p>
      </div>
      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
        <table className="min-w-full divide-y divide-slate-200 text-sm">
          <thead className="bg-slate-50">
            <tr>
              {COLUMNS.map((c) => (
                <SortableHeader key={c.key} column={c} sort={sort} onSort={(key) => setSort(nextSort(sort, key))} />
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {shown.map((d) => (
              <DiskRow key={d.name} disk={d} />
            ))}
          </tbody>
        </table>
        {shown.length === 0 ? (
          <div className="px-4 py-10 text-center text-sm text-slate-600" data-testid="no-disk-matches">
            No disk matches “{query.trim()}”.{" "}
            <button type="button" onClick={() => setQuery("")} className="font-medium text-sky-700 hover:underline">
              Clear the search
            </button>
          </div>
        ) : null}
      </div>
    </div>
  );
}

function SortableHeader({ column, sort, onSort }: { column: Column; sort: DiskSort; onSort: (key: DiskSortKey) => void }) {
  const direction = sort.key === column.key ? sort.direction : "none";
  return (
    <th scope="col" aria-sort={direction} className={`${th} ${column.numeric ? "text-right" : ""}`} title={column.title}>
      <button
        type="button"
        onClick={() => onSort(column.key)}
        className={`group inline-flex items-center gap-0.5 rounded hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 ${
          column.numeric ? "flex-row-reverse" : ""
        } ${direction !== "none" ? "text-slate-900" : ""}`}
      >
        {column.label}
        <SortIcon
          direction={direction}
          className={`size-3 shrink-0 ${direction === "none" ? "text-slate-300 group-hover:text-slate-500" : "text-sky-700"}`}
        />
      </button>
    </th>
  );
}

function DiskRow({ disk }: { disk: DiskListEntry }) {
  const td = "whitespace-nowrap px-2.5 first:pl-4 last:pr-4 py-3 align-middle";
  return (
    <tr data-testid={`disk-row-${disk.name}`} className="hover:bg-slate-50">
      <td className={td}>
        <Link href={diskHref(disk.name)} className="whitespace-nowrap font-semibold text-sky-700 hover:text-sky-900 hover:underline">
          {disk.name}
        </Link>
      </td>
      <td className={td}>
        <StatusBadge status={disk.status} />
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
