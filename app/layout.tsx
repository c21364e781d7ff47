import type { Metadata } from "next";
import type { ReactNode } from "react";
import { AppSidebar } from "@/components/shell/AppSidebar";
import { QueryProvider } from "@/components/providers/QueryProvider";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Canopy", template: "%s · Canopy" },
  description: "See and reshape the QCOW2 snapshot tree of every disk.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="bg-slate-50 font-sans text-slate-900 antialiased">
        <QueryProvider>
          <div className="flex h-screen overflow-hidden">
            <AppSidebar />
            <main className="flex min-w-0 flex-1 flex-col overflow-y-auto">{children}</main>
          </div>
        </QueryProvider>
      </body>
    </html>
  );
}
