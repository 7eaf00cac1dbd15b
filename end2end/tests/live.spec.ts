import { expect, Page, test } from "@playwright/test";
import { dockerA, hydrated, screenshot, unexpected, watchConsole } from "./support";

const IMAGE = process.env.CAPSTAN_TEST_IMAGE ?? "capstan-test/busybox:latest";
const HOST = "unix-engine";

function cleanup(...names: string[]) {
  for (const name of names) {
    try {
      dockerA("rm", "-f", "-v", name);
    } catch {
      // Already gone.
    }
  }
}

/** A busybox container on engine a that prints a numbered line every 0.2 s (every fifth one on
 *  stderr, and a coloured one now and then). */
function ticker(name: string): string {
  const script =
    'i=0; while true; do i=$((i+1)); if [ $((i%5)) -eq 0 ]; then echo "tick $i oops" >&2; ' +
    'elif [ $((i%7)) -eq 0 ]; then printf "\\033[32mtick $i green\\033[0m\\n"; else echo "tick $i"; fi; sleep 0.2; done';
  return dockerA("run", "-d", "--name", name, "--label", `e2e=${name}`, IMAGE, "sh", "-c", script).trim();
}

async function open(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

test.describe("Live", () => {
  test("logs follow live and search on the server; stats move; a terminal runs a command", async ({ page }, info) => {
    test.setTimeout(180_000);
    const p = info.project.name;
    const name = `e2e-live-${p}-${Date.now()}`;
    const problems = watchConsole(page);
    try {
      const id = ticker(name);
      const base = `/hosts/${HOST}/containers/${id}`;

      // Logs: a line printed after the page opened shows up without a reload.
      await open(page, `${base}/logs`);
      const lines = page.getByTestId("log-lines");
      await expect(lines.locator(".log-line").first()).toBeVisible({ timeout: 20_000 });
      const seen = Number((await lines.locator(".log-line").last().innerText()).match(/tick (\d+)/)?.[1] ?? "0");
      await expect
        .poll(async () => Number((await lines.locator(".log-line").last().innerText()).match(/tick (\d+)/)?.[1] ?? "0"), { timeout: 20_000 })
        .toBeGreaterThan(seen + 2);
      await expect(lines.locator(".log-err").first()).toBeVisible();
      await expect(lines.locator(".ansi-fg2").first()).toBeVisible();
      await screenshot(page, `live-logs-${p}`);

      // Search filters on the server: only stderr lines ("oops") remain, highlighted.
      await page.getByTestId("log-search").fill("oops");
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await expect(lines.locator(".log-hit").first()).toBeVisible({ timeout: 20_000 });
      await expect(page.getByTestId("log-count")).toContainText("matching");
      const texts = await lines.locator(".log-line").allInnerTexts();
      expect(texts.length).toBeGreaterThan(0);
      for (const t of texts) expect(t).toContain("oops");
      await screenshot(page, `live-logs-search-${p}`);

      // Stats: a CPU number shows up.
      await open(page, `${base}/stats`);
      await expect(page.getByTestId("chart-cpu-value")).toHaveText(/\d+(\.\d+)? %/, { timeout: 20_000 });
      await expect(page.getByTestId("chart-pids-value")).toHaveText(/\d+/);
      await page.waitForTimeout(2500);
      await screenshot(page, `live-stats-${p}`);

      // Terminal: type a command, see its answer.
      await open(page, `${base}/terminal`);
      // "not connected" also contains "connected": wait for the open state itself.
      await expect(page.getByTestId("terminal-state")).toHaveText(/^\s*connected\s*$/, { timeout: 20_000 });
      await page.locator(".terminal-screen .xterm").click();
      await page.keyboard.type("echo capstan-$((6*7))");
      await page.keyboard.press("Enter");
      await expect(page.locator(".terminal-screen .xterm-rows")).toContainText("capstan-42", { timeout: 15_000 });
      await screenshot(page, `live-terminal-${p}`);
      await page.keyboard.type("exit");
      await page.keyboard.press("Enter");
      await expect(page.getByTestId("terminal-state")).toContainText("exited with code 0", { timeout: 15_000 });

      expect(unexpected(problems)).toEqual([]);
    } finally {
      cleanup(name);
    }
  });

  test("the events page shows a start as it happens", async ({ page }, info) => {
    test.setTimeout(120_000);
    const p = info.project.name;
    const name = `e2e-events-${p}-${Date.now()}`;
    const problems = watchConsole(page);
    try {
      await open(page, "/events");
      await expect(page.getByTestId("events-state")).toContainText("live", { timeout: 20_000 });
      dockerA("run", "-d", "--name", name, "--label", `e2e=${name}`, IMAGE, "sleep", "60");
      const row = page.getByTestId("events").locator('tr[data-action="start"]', { hasText: name });
      await expect(row.first()).toBeVisible({ timeout: 20_000 });
      await screenshot(page, `live-events-${p}`);
      expect(unexpected(problems)).toEqual([]);
    } finally {
      cleanup(name);
    }
  });
});
