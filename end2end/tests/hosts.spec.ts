import { execFileSync } from "node:child_process";
import { expect, Page, test } from "@playwright/test";
import { dockerA, hydrated, screenshot, watchConsole } from "./support";

/** The docker CLI against engine c, the one swarm tests may turn into a manager. */
function dockerC(...args: string[]): string {
  const url = process.env.CAPSTAN_TEST_SWARM_URL;
  if (!url) throw new Error("CAPSTAN_TEST_SWARM_URL is not set: run with `./dev test`");
  return execFileSync("docker", ["-H", url, ...args], { encoding: "utf8" }).trim();
}

/** A JSON request from inside the page, so it is same-origin and carries the session. */
async function api(page: Page, method: string, path: string, body?: unknown): Promise<number> {
  return page.evaluate(
    async ([method, path, body]) => {
      const res = await fetch(path as string, {
        method: method as string,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return res.status;
    },
    [method, path, body] as const,
  );
}

test.describe("Hosts page", () => {
  test("lists both engines and the stopped one, with versions and the reason it is down", async ({ page }, info) => {
    const problems = watchConsole(page);
    await page.goto("/hosts");
    await expect(page).toHaveTitle("Hosts · Capstan");

    const unix = page.locator('tr[data-host="unix-engine"]');
    const tls = page.locator('tr[data-host="tls-engine"]');
    const stopped = page.locator('tr[data-host="stopped-engine"]');
    await expect(unix).toContainText("up");
    await expect(unix).toContainText(/API 1\.\d+/);
    await expect(tls).toContainText("up");
    await expect(tls).toContainText("TLS");
    await expect(stopped).toContainText("down");
    await expect(stopped).toContainText("connection refused");
    await expect(page.getByTestId("fleet-summary")).toContainText("3 hosts · 2 up · 1 down");

    await hydrated(page);
    await screenshot(page, `hosts-${info.project.name}`);
    expect(problems, "no console errors, CSP violations or failed requests").toEqual([]);
  });

  test("refresh updates the table without a page load", async ({ page }) => {
    const problems = watchConsole(page);
    const name = `e2e-refresh-${Date.now()}`;
    await page.goto("/hosts");
    await hydrated(page);
    const containers = page.locator('tr[data-host="unix-engine"] [data-testid="containers"]');
    // The engine's own count is the truth: the page's first load may show the monitor's
    // snapshot, taken before an earlier test removed its container.
    const count = () => dockerA("ps", "-aq").split("\n").filter((l) => l.trim()).length;
    const before = count();

    // A marker on window survives only if the page is not reloaded.
    await page.evaluate(() => ((window as any).__capstanMarker = "still here"));
    let navigations = 0;
    page.on("framenavigated", () => navigations++);

    dockerA("create", "--name", name, process.env.CAPSTAN_TEST_IMAGE!, "true");
    try {
      const refresh = page.getByRole("button", { name: "Refresh" });
      await refresh.click();
      await expect(containers).toContainText(`of ${before + 1}`);
      await expect(refresh).toBeEnabled();
    } finally {
      dockerA("rm", "-f", name);
    }
    expect(await page.evaluate(() => (window as any).__capstanMarker)).toBe("still here");
    expect(navigations).toBe(0);
    expect(problems).toEqual([]);
  });

  test("a host's page shows its engine in full", async ({ page }, info) => {
    const problems = watchConsole(page);
    await page.goto("/hosts");
    await hydrated(page);
    await page.getByRole("link", { name: "unix-engine" }).click();
    await expect(page).toHaveURL(/\/hosts\/unix-engine$/);
    await expect(page.getByRole("heading", { name: "unix-engine" })).toBeVisible();
    const engine = page.getByRole("region", { name: "Engine", exact: true });
    await expect(engine).toContainText(/API\s*1\.\d+ \(oldest supported 1\.\d+\)/);
    await expect(engine).toContainText("runc");
    await expect(page.getByRole("region", { name: "System" })).toContainText("Debian");
    await screenshot(page, `host-${info.project.name}`);
    expect(problems).toEqual([]);
  });

  test("a host's page shows its disk usage with what is reclaimable, and its labels", async ({ page }, info) => {
    const problems = watchConsole(page);
    const name = `e2e-df-${info.project.name}-${Date.now()}`;
    dockerA("volume", "create", name);
    dockerA("create", "--name", name, "-v", `${name}:/data`, process.env.CAPSTAN_TEST_IMAGE!, "true");
    try {
      await page.goto("/hosts/unix-engine");
      await hydrated(page);
      const disk = page.getByRole("region", { name: "Disk usage" });
      await expect(disk).toBeVisible();
      await expect(disk.locator("tbody tr")).toHaveCount(4);
      const row = (kind: string) => disk.locator(`tr[data-kind="${kind}"]`);
      const cell = (kind: string, label: string) => row(kind).locator(`td[data-label="${label}"]`);
      const positive = /^[1-9]\d*$/;
      const size = /^\d+(\.\d)? (B|KB|MB|GB|TB)$/;
      // The test image, our stopped container and our volume: every kind is counted.
      await expect(cell("images", "Total")).toHaveText(positive);
      await expect(cell("images", "Size")).toHaveText(size);
      await expect(cell("containers", "Total")).toHaveText(positive);
      await expect(cell("local-volumes", "Total")).toHaveText(positive);
      await expect(cell("build-cache", "Total")).toHaveText(/^\d+$/);
      for (const kind of ["images", "containers", "local-volumes", "build-cache"]) {
        await expect(cell(kind, "Size")).toHaveText(size);
        // "12 KB (100 %)", or just a size when the kind takes no space at all.
        await expect(cell(kind, "Reclaimable")).toHaveText(/^\d+(\.\d)? (B|KB|MB|GB|TB)( \(\d{1,3} %\))?$/);
      }
      // Exact byte counts are one hover away.
      await expect(cell("images", "Size").locator("span")).toHaveAttribute("title", /^\d+ bytes$/);
      await expect(disk).toContainText(/on disk · .+ reclaimable/);

      const labels = page.getByRole("region", { name: "Labels" });
      await expect(labels).toContainText("Engine");
      await expect(labels).toContainText("Capstan");
      // Engine a is not in a swarm: there is no nodes table to show.
      await expect(page.getByRole("region", { name: "Swarm nodes" })).toHaveCount(0);
      await screenshot(page, `host-disk-usage-${info.project.name}`);
    } finally {
      dockerA("rm", "-f", name);
      dockerA("volume", "rm", "-f", name);
    }
    expect(problems).toEqual([]);
  });

  test("a swarm manager's page lists its nodes", async ({ page }, info) => {
    const problems = watchConsole(page);
    const slug = `e2e-swarm-${info.project.name}`;
    // A run that crashed half-way may have left engine c in a swarm.
    try { dockerC("swarm", "leave", "--force"); } catch { /* not in a swarm */ }
    const port = 20000 + Math.floor(Math.random() * 20000);
    dockerC("swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", `127.0.0.1:${port}`);
    await page.goto("/hosts");
    await hydrated(page);
    try {
      expect(await api(page, "POST", "/api/v1/hosts", { slug, name: slug, url: process.env.CAPSTAN_TEST_SWARM_URL })).toBe(201);
      await page.goto(`/hosts/${slug}`);
      await hydrated(page);
      await expect(page.getByRole("region", { name: "Engine", exact: true })).toContainText(/active · manager · 1 nodes, 1 managers/);
      const nodes = page.getByRole("region", { name: "Swarm nodes" });
      await expect(nodes).toBeVisible();
      await expect(nodes).toContainText("1 node · 1 manager · 1 ready");
      const node = nodes.locator("tbody tr");
      await expect(node).toHaveCount(1);
      await expect(node.locator('td[data-label="Role"]')).toHaveText("manager");
      await expect(node.locator('td[data-label="Manager"]')).toHaveText("leader");
      await expect(node.locator('td[data-label="Status"]')).toContainText("ready");
      await expect(node.locator('td[data-label="Availability"]')).toHaveText("active");
      await expect(node.locator('td[data-label="Address"]')).toHaveText("127.0.0.1");
      await expect(page.getByRole("region", { name: "Disk usage" })).toBeVisible();
      await screenshot(page, `host-swarm-${info.project.name}`);
    } finally {
      await api(page, "DELETE", `/api/v1/hosts/${slug}`);
      dockerC("swarm", "leave", "--force");
    }
    expect(problems).toEqual([]);
  });

  test("the root address leads to the hosts page and unknown pages say so", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/hosts$/);
    const res = await page.goto("/no/such/page");
    expect(res?.status()).toBe(404);
    await expect(page.getByText("There is no page at this address")).toBeVisible();
  });
});

test.describe("Phone layout", () => {
  test("the menu opens from the top bar and rows become cards", async ({ page }, info) => {
    test.skip(info.project.name !== "phone", "phone only");
    await page.goto("/hosts");
    await hydrated(page);
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav).toBeHidden();
    await page.getByLabel("Menu").click();
    await expect(nav).toBeVisible();
    await screenshot(page, "hosts-phone-menu");
    await page.getByLabel("Menu").click();
    await expect(nav).toBeHidden();
    // Cards: the table header is hidden and each cell carries its label.
    await expect(page.locator("table thead")).toBeHidden();
    await expect(page.locator('tr[data-host="unix-engine"] td[data-label="Engine"]')).toBeVisible();
  });
});
