import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { LoginForm } from "@/components/auth/LoginForm";
import { CanopyMark } from "@/components/ui/icons";
import { getCurrentUser } from "@/server/auth/current-user";
import { safeReturnPath } from "@/server/auth/shared";

export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Log in" };

interface LoginPageProps {
  searchParams: Promise<{ next?: string | string[] }>;
}

/** The one page open to everyone. Someone already logged in goes straight on. */
export default async function LoginPage({ searchParams }: LoginPageProps) {
  const raw = (await searchParams).next;
  const next = safeReturnPath(Array.isArray(raw) ? raw[0] : raw);
  if (await getCurrentUser()) redirect(next ?? "/");

  return (
    <div className="flex min-h-screen items-center justify-center bg-gradient-to-b from-slate-100 to-slate-50 px-6 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-7 flex flex-col items-center text-center">
          <span className="grid size-12 place-items-center rounded-xl bg-slate-900 text-emerald-400 shadow-sm ring-1 ring-slate-900/5">
            <CanopyMark className="size-7" />
          </span>
          <h1 className="mt-4 text-2xl font-semibold tracking-tight text-slate-900">Log in to Canopy</h1>
          <p className="mt-1 text-sm text-slate-600">QCOW2 snapshot trees of every disk</p>
        </div>
        <div className="rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
          <LoginForm next={next} />
        </div>
        <p className="mt-6 text-center text-xs leading-relaxed text-slate-500">
          The admin password is <code className="font-mono text-slate-700">CANOPY_ADMIN_PASSWORD</code>, or the one
          printed when Canopy first started.
        </p>
      </div>
    </div>
  );
}
