import type { Metadata } from "next";
import { headers } from "next/headers";
import { redirect, unstable_rethrow } from "next/navigation";
import type { ReactNode } from "react";
import { AppSidebar } from "@/components/shell/AppSidebar";
import { QueryProvider } from "@/components/providers/QueryProvider";
import { ErrorState } from "@/components/ui/StatePanel";
import { gateError } from "@/server/error-gate";
import { getCurrentUser } from "@/server/auth/current-user";
import { REQUEST_PATH_HEADER, isPublicPage, loginPath } from "@/server/auth/shared";
import type { SessionUser } from "@/server/auth/sessions";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Canopy", template: "%s · Canopy" },
  description: "See and reshape the QCOW2 snapshot tree of every disk.",
};

/**
 * Logged in: the sidebar and the page. Not logged in: the login page alone, and every other page redirects
 * there. This is the server-side check behind proxy.ts's cookie test for full page loads (a page reached by a
 * client-side navigation re-renders without this layout, so pages call requireUser() themselves as well).
 * proxy.ts tells the path in a header; without it the page counts as protected.
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  let user: SessionUser | null;
  try {
    user = await getCurrentUser();
  } catch (err) {
    unstable_rethrow(err); // Next's own signals (this layout is dynamic) are not failures
    return (
      <Document>
        <div className="mx-auto w-full max-w-xl px-8 py-16">
          <ErrorState title="Canopy cannot check your session">
            <p>{gateError(err, "reading the session").message}</p>
            <p className="mt-2">Check that the database is reachable and has been migrated, then reload.</p>
          </ErrorState>
        </div>
      </Document>
    );
  }
  const path = (await headers()).get(REQUEST_PATH_HEADER);
  if (!user && !isPublicPage(path)) redirect(loginPath(path));

  return (
    <Document>
      {user ? (
        <div className="flex h-screen overflow-hidden">
          <AppSidebar userName={user.name} />
          <main className="flex min-w-0 flex-1 flex-col overflow-y-auto">{children}</main>
        </div>
      ) : (
        <main className="min-h-screen">{children}</main>
      )}
    </Document>
  );
}

function Document({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="bg-slate-50 font-sans text-slate-900 antialiased">
        <QueryProvider>{children}</QueryProvider>
      </body>
    </html>
  );
}
