"use client";

import { ErrorState } from "@/components/ui/StatePanel";

/**
 * Last resort for errors the pages do not catch themselves. Production builds hide server error messages
 * from the browser, so this shows the digest that matches the server log line.
 */
export default function RouteError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="mx-auto w-full max-w-3xl px-8 py-16">
      <ErrorState title="Something went wrong">
        <p>{error.message || "The page failed to render."}</p>
        {error.digest ? <p className="mt-1 font-mono text-xs">digest {error.digest}</p> : null}
        <button
          type="button"
          onClick={reset}
          className="mt-3 rounded-md bg-white px-3 py-1.5 text-sm font-medium text-red-800 ring-1 ring-red-300 hover:bg-red-100"
        >
          Try again
        </button>
      </ErrorState>
    </div>
  );
}
