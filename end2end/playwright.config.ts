import { defineConfig } from "@playwright/test";

// `./dev test` starts Capstan against the private test engines and passes its address here.
const baseURL = process.env.CAPSTAN_E2E_URL;
if (!baseURL) {
  throw new Error("CAPSTAN_E2E_URL is not set: run the browser tests with `./dev test`");
}

export const ADMIN_STATE = "test-results/.auth/admin.json";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      // Debian's Chromium; Playwright's own browser download does not work here.
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    // First run: the setup page creates the admin; the other projects reuse its session.
    { name: "setup", testMatch: /.*\.setup\.ts/, use: { viewport: { width: 1360, height: 860 } } },
    {
      name: "desktop",
      dependencies: ["setup"],
      use: { viewport: { width: 1360, height: 860 }, storageState: ADMIN_STATE },
    },
    {
      name: "phone",
      dependencies: ["setup"],
      use: {
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 2,
        storageState: ADMIN_STATE,
      },
    },
  ],
});
