import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, Page } from "@playwright/test";

export const ADMIN = { username: "admin", password: "an admin password for tests" };

/** The docker CLI against the unix test engine (the one named `unix-engine` in Capstan). */
export function dockerA(...args: string[]): string {
  const url = process.env.CAPSTAN_TEST_UNIX_URL;
  if (!url) throw new Error("CAPSTAN_TEST_UNIX_URL is not set: run with `./dev test`");
  return execFileSync("docker", ["-H", url, ...args], { encoding: "utf8" }).trim();
}

/** The one-time setup token the server wrote into its data directory. */
export function setupToken(): string {
  const dir = process.env.CAPSTAN_E2E_DATA;
  if (!dir) throw new Error("CAPSTAN_E2E_DATA is not set: run with `./dev test`");
  return readFileSync(join(dir, "setup-token"), "utf8").trim();
}

/** Collects console errors and failed requests so a test can assert the page ran cleanly
 *  (a CSP violation or a hydration error shows up here and nowhere else). */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  // Chromium aborts every request in flight when the machine's network changes, and tests that
  // make engine networks (docker run, swarm init) change it. The page must survive that (the
  // loader and lazy pages ask again), so the aborted requests and the retry notes are not
  // problems; a page that never comes to life still fails its test.
  let networkChanged = false;
  // The wasm chunk loader reports a fetch the change aborted as a bare "Failed to fetch"
  // (console and page error), sometimes before the browser reports the change itself: such
  // notes are held back and dropped once the change is known.
  const aborted = /did not load|could not be loaded|Failed to fetch/;
  const held: string[] = [];
  const note = (problem: string) => {
    if (networkChanged && aborted.test(problem)) return;
    if (aborted.test(problem)) held.push(problem);
    problems.push(problem);
  };
  const changed = () => {
    networkChanged = true;
    for (const p of held.splice(0)) {
      const i = problems.indexOf(p);
      if (i >= 0) problems.splice(i, 1);
    }
  };
  page.on("console", (msg) => {
    const text = msg.text();
    if (text.includes("ERR_NETWORK_CHANGED")) return changed();
    if (msg.type() === "error" || msg.type() === "warning") note(`${msg.type()}: ${text}`);
  });
  page.on("pageerror", (err) => note(`pageerror: ${err.message}`));
  page.on("requestfailed", (req) => {
    // A request the browser dropped because the page navigated away is not a failure.
    const reason = req.failure()?.errorText ?? "";
    if (reason === "net::ERR_NETWORK_CHANGED") changed();
    else if (reason !== "net::ERR_ABORTED") problems.push(`requestfailed: ${req.url()} ${reason}`);
  });
  return problems;
}

/** Problems other than the browser's note about an answer with a 4xx status, which is how a
 *  refused sign-in or a forbidden page is meant to answer. */
export function unexpected(problems: string[]): string[] {
  return problems.filter((p) => !/status of 4\d\d/.test(p));
}

/** Waits until the wasm has hydrated the page (the app marks <body> from an effect, which only
 *  runs in the browser after hydration). */
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

export async function screenshot(page: Page, name: string) {
  // From the top, as a person arriving sees it (sticky parts stay where the scroll left them).
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}

export async function signIn(page: Page, username: string, password: string) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
