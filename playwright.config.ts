import { defineConfig, devices } from "@playwright/test";

/**
 * End-to-end tests against a production build. scripts/e2e-server.sh prepares a fresh data folder with the
 * demo storage root, migrates, scans, builds when needed and starts `next start` on port 3100.
 *
 * E2E_BASE_URL=http://host:port runs the tests against a server that is already up (no webServer).
 */
const external = process.env.E2E_BASE_URL;
const baseURL = external ?? "http://127.0.0.1:3100";

export default defineConfig({
  testDir: "e2e",
  outputDir: "e2e/artifacts/test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["html", { outputFolder: "e2e/artifacts/report", open: "never" }]],
  use: {
    ...devices["Desktop Chrome"],
    baseURL,
    viewport: { width: 1280, height: 800 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      // Browsers cannot be downloaded here: Debian's chromium, with the flags that keep it off the network.
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
      ],
    },
  },
  webServer: external
    ? undefined
    : {
        command: "bash scripts/e2e-server.sh",
        url: "http://127.0.0.1:3100",
        timeout: 180_000,
        reuseExistingServer: false,
        stdout: "pipe",
        stderr: "pipe",
      },
});
