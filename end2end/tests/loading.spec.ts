import { expect, Page, TestInfo, test } from "@playwright/test";
import { hydrated } from "./support";

/** Refuses the first `times` requests of each named file under /pkg, as a network that drops
 *  (a phone changing networks) would, and counts every request of them. */
async function refuse(page: Page, files: string[], times: number): Promise<Map<string, number>> {
  const asked = new Map<string, number>();
  await page.route(
    (url) => files.includes(url.pathname.split("/").pop() ?? "") && url.pathname.startsWith("/pkg/"),
    async (route) => {
      const file = new URL(route.request().url()).pathname.split("/").pop() as string;
      const n = (asked.get(file) ?? 0) + 1;
      asked.set(file, n);
      if (n <= times) await route.abort("internetdisconnected");
      else await route.continue();
    },
  );
  return asked;
}

/** The page is alive: hydrated, and a client-side navigation to another area's page works. */
async function alive(page: Page, info: TestInfo) {
  await hydrated(page);
  if (info.project.name === "phone") await page.getByLabel("Menu").click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Images" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Images" })).toBeVisible();
}

test.describe("Loading the code", () => {
  test("a wasm or page chunk that fails to arrive is asked for again", async ({ page }, info) => {
    // Twice each: the early preload and the first real fetch both fail.
    const files = ["capstan.wasm", "split_containers.wasm"];
    const asked = await refuse(page, files, 2);
    const notes: string[] = [];
    page.on("console", (msg) => notes.push(msg.text()));
    let loads = 0;
    page.on("load", () => (loads += 1));

    await page.goto("/containers");
    await alive(page, info);

    for (const file of files) expect(asked.get(file), file).toBeGreaterThanOrEqual(3);
    expect(notes.some((n) => /Capstan's code did not load .*trying again/.test(n)), notes.join("\n")).toBe(true);
    expect(notes.some((n) => /code of this page \(containers\) could not be loaded/.test(n)), notes.join("\n")).toBe(true);
    expect(loads, "recovered without reloading the page").toBe(1);
  });

  test("a main script that fails to arrive reloads the page once", async ({ page }, info) => {
    const asked = await refuse(page, ["capstan.js"], 1);
    const notes: string[] = [];
    page.on("console", (msg) => notes.push(msg.text()));

    await page.goto("/containers");
    await alive(page, info);

    expect(asked.get("capstan.js")).toBeGreaterThanOrEqual(2);
    expect(notes.some((n) => /Capstan's code did not load .*reloading the page/.test(n)), notes.join("\n")).toBe(true);
    // The count of reloads in a row is cleared once the code has loaded.
    expect(await page.evaluate(() => sessionStorage.getItem("capstan-reloads"))).toBeNull();
  });

  test("a main script that never arrives ends in a notice with a reload button", async ({ page }, info) => {
    const asked = await refuse(page, ["capstan.js"], 1000);

    await page.goto("/containers");
    // Three reloads in a row, then the loader stops and says so on the page.
    const notice = page.getByRole("alert").filter({ hasText: "Capstan's code did not load" });
    await expect(notice).toBeVisible({ timeout: 20_000 });
    expect(asked.get("capstan.js")).toBeGreaterThanOrEqual(4);
    expect(await page.evaluate(() => sessionStorage.getItem("capstan-reloads"))).toBe("3");
    // The server-rendered page is still there to read.
    await expect(page.getByRole("heading", { level: 1, name: "Containers" })).toBeVisible();
    await page.screenshot({ path: `screenshots/loading-failed-${info.project.name}.png`, fullPage: false });

    // Once the network is back, the button reloads and the page comes to life.
    await page.unrouteAll();
    await notice.getByRole("button", { name: "Reload" }).click();
    await alive(page, info);
    await expect(page.getByRole("alert").filter({ hasText: "Capstan's code did not load" })).toHaveCount(0);
    expect(await page.evaluate(() => sessionStorage.getItem("capstan-reloads"))).toBeNull();
  });
});
