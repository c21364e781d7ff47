import Link from "next/link";
import { EmptyState } from "@/components/ui/StatePanel";

export default function NotFound() {
  return (
    <div className="mx-auto w-full max-w-3xl px-8 py-16">
      <EmptyState title="Page not found" testId="not-found">
        <Link href="/" className="font-medium text-sky-700 hover:underline">
          Back to all disks
        </Link>
      </EmptyState>
    </div>
  );
}
