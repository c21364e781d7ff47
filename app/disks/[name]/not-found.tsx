import Link from "next/link";
import { EmptyState } from "@/components/ui/StatePanel";

export default function DiskNotFound() {
  return (
    <div className="mx-auto w-full max-w-3xl px-8 py-16">
      <EmptyState title="Disk not found" testId="disk-not-found">
        <p>No disk by that name was found in the last scan of the storage root.</p>
        <p className="mt-3">
          <Link href="/" className="font-medium text-sky-700 hover:underline">
            Back to all disks
          </Link>
        </p>
      </EmptyState>
    </div>
  );
}
