import type { Metadata } from "next";
import { requireUser } from "@/server/auth/current-user";
import { policyPageData } from "@/server/backups/policy";
import { PolicyEditor } from "@/components/backups/PolicyEditor";
import { PageHeader } from "@/components/ui/PageHeader";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Backup policy" };

export default async function BackupPolicyPage() {
  await requireUser();
  const { policies, disks } = await policyPageData();
  return (
    <div className="mx-auto w-full max-w-5xl space-y-6 px-8 py-8">
      <PageHeader
        title="Backup policy"
        description="The default for every disk, and per-disk overrides. An empty field of an override follows the default."
      />
      <PolicyEditor policies={policies} disks={disks} />
    </div>
  );
}
