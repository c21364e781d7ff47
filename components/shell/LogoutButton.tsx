"use client";

import { useState, useTransition } from "react";
import { logoutAction } from "@/server/actions/auth";
import { LogoutIcon } from "@/components/ui/icons";

/** Ends the session; the action then sends the browser to the login page. */
export function LogoutButton() {
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);
  const logOut = () =>
    startTransition(async () => {
      const result = await logoutAction();
      // A session that had already ended cannot be ended again: the login page is where this goes either way.
      if (result && !result.ok) {
        if (result.error.code === "unauthenticated") window.location.assign("/login");
        else setError(result.error.message);
      }
    });
  return (
    <>
      <button
        type="button"
        onClick={logOut}
        disabled={pending}
        className="flex w-full items-center gap-2.5 rounded-md px-2.5 py-2 text-sm font-medium text-slate-400 transition-colors hover:bg-slate-800/60 hover:text-slate-100 focus-visible:outline-2 focus-visible:outline-emerald-400 disabled:opacity-60"
      >
        <LogoutIcon className="size-4" />
        {pending ? "Logging out…" : "Log out"}
      </button>
      {error ? (
        <p role="alert" className="px-2.5 pt-1 text-xs text-red-300">
          {error}
        </p>
      ) : null}
    </>
  );
}
