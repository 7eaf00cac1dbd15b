import { expect, test } from "@playwright/test";
import { dockerA, hydrated, screenshot, watchConsole } from "./support";

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
