"use client";

import { useId, useRef, useState, useTransition, type FormEvent } from "react";
import { loginAction } from "@/server/actions/auth";
import { WarningIcon } from "@/components/ui/icons";

const input =
  "mt-1 block w-full rounded-md border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:outline-none focus:ring-2 focus:ring-inset focus:ring-sky-600 aria-[invalid=true]:ring-red-400";

/**
 * User name and password. On success the action sets the cookie and redirects; on failure its message (wrong
 * password, too many attempts) shows above the button and the password field is cleared for the next try.
 */
export function LoginForm({ next }: { next: string | null }) {
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const password = useRef<HTMLInputElement>(null);
  const errorId = useId();

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setError(null);
    startTransition(async () => {
      const result = await loginAction(form);
      // Success never comes back here: the action redirects.
      if (result && !result.ok) {
        setError(result.error.message);
        if (password.current) {
          password.current.value = "";
          password.current.focus();
        }
      }
    });
  };

  return (
    <form onSubmit={submit} className="space-y-4" aria-describedby={error ? errorId : undefined} data-testid="login-form">
      {next ? <input type="hidden" name="next" value={next} /> : null}
      <label className="block text-sm font-medium text-slate-700">
        User name
        <input
          name="username"
          type="text"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          autoFocus
          placeholder="admin"
          className={input}
        />
      </label>
      <label className="block text-sm font-medium text-slate-700">
        Password
        <input
          ref={password}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          aria-invalid={error ? true : undefined}
          className={input}
        />
      </label>
      {error ? (
        <div
          id={errorId}
          role="alert"
          data-testid="login-error"
          className="flex items-start gap-2 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
        >
          <WarningIcon className="mt-0.5 size-4 shrink-0 text-red-600" />
          <span>{error}</span>
        </div>
      ) : null}
      <button
        type="submit"
        disabled={pending}
        className="flex w-full items-center justify-center rounded-md bg-slate-900 px-3 py-2 text-sm font-semibold text-white shadow-sm transition-colors hover:bg-slate-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:cursor-wait disabled:opacity-70"
      >
        {pending ? "Logging in…" : "Log in"}
      </button>
    </form>
  );
}
