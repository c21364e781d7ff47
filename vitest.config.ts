import { defineConfig } from "vitest/config";
import { defaultServerConditions } from "vite";
import path from "node:path";

// Two projects: unit tests (fast, recorded outputs allowed) and integration tests (real qemu-img,
// qemu-storage-daemon and real files in temporary folders). `react-server` lets server-only modules load
// outside Next, exactly as the worker and the CLI run them.
export default defineConfig({
  resolve: {
    alias: { "@": path.resolve(import.meta.dirname) },
  },
  // Tests run in Vite's server environment: that is where the condition has to be added.
  ssr: { resolve: { conditions: [...defaultServerConditions, "react-server"] } },
  test: {
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node", sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // qemu processes are the slow part and the machine has two cores: run files one or two at a time.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
