import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { hydrated, screenshot, unexpected, watchConsole } from "./support";

function tlsFile(name: string): string {
  const dir = process.env.CAPSTAN_TEST_TLS_DIR;
  if (!dir) throw new Error("CAPSTAN_TEST_TLS_DIR is not set: run with `./dev test`");
  return join(dir, name);
}

let cleanup: (() => Promise<void>) | null = null;

test.afterEach(async () => {
  if (cleanup) await cleanup().catch(() => {});
  cleanup = null;
});

test.describe("Adding, editing and removing hosts", () => {
  test("an admin adds a TLS host through the form, sees it up, edits and removes it", async ({ page }, info) => {
    const slug = `tls-${info.project.name}`;
    const problems = watchConsole(page);
    // Whatever happens below, the host does not outlive the test (other tests count hosts).
    test.info().attach("slug", { body: slug });
    cleanup = async () => {
      await page.evaluate(async (s) => {
        await fetch(`/api/v1/hosts/${s}`, { method: "DELETE" });
      }, slug);
    };
    await page.goto("/hosts");
    await hydrated(page);
    await page.getByRole("link", { name: "Add host" }).first().click();
    await expect(page).toHaveURL(/\/hosts\/new$/);
    await hydrated(page);

    await page.getByLabel("Slug").fill(slug);
    await page.getByLabel("Display name").fill(`TLS engine (${info.project.name})`);
    await page.getByLabel("Engine URL").fill(process.env.CAPSTAN_TEST_TLS_URL ?? "");
    await page.getByLabel("Use TLS").check();

    // A wrong CA is explained at the TLS fields, and nothing is saved.
    await page.getByLabel("CA certificate").fill(readFileSync(join(process.env.CAPSTAN_TEST_ROGUE_TLS_DIR ?? "", "ca.pem"), "utf8"));
    await page.getByLabel("Client certificate").fill(readFileSync(tlsFile("cert.pem"), "utf8"));
    // The key comes from a file, as an admin would pick it.
    await page.locator('input[type="file"]').nth(2).setInputFiles(tlsFile("key.pem"));
    await expect(page.getByLabel("Client key")).toHaveValue(/PRIVATE KEY/);
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect(page.getByRole("alert").filter({ hasText: "not signed by the configured CA" }).first()).toBeVisible();
    await screenshot(page, `host-add-error-${info.project.name}`);

    await page.locator('input[type="file"]').nth(0).setInputFiles(tlsFile("ca.pem"));
    await expect(page.getByLabel("CA certificate")).toHaveValue(/BEGIN CERTIFICATE/);
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect(page.getByTestId("connection-ok")).toContainText("Connected: Docker");
    await page.getByLabel("Labels").fill("env=e2e\nsite=lab");
    await screenshot(page, `host-add-${info.project.name}`);
    await page.getByRole("button", { name: "Add host" }).click();

    await expect(page).toHaveURL(new RegExp(`/hosts/${slug}$`));
    await page.goto("/hosts");
    await hydrated(page);
    const row = page.locator(`tr[data-host="${slug}"]`);
    await expect(row).toContainText("up");
    await expect(row).toContainText("TLS");

    // Edit: rename, and the key is never shown back.
    await page.goto(`/hosts/${slug}/edit`);
    await hydrated(page);
    await expect(page.getByLabel("Client key")).toHaveValue("");
    await expect(page.locator("body")).not.toContainText("PRIVATE KEY");
    await page.getByLabel("Display name").fill("Renamed TLS engine");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
    await screenshot(page, `host-edit-${info.project.name}`);

    // Remove, with confirmation.
    await page.getByRole("button", { name: "Remove host" }).click();
    await page.getByRole("group").getByRole("button", { name: "Remove host" }).click();
    await expect(page).toHaveURL(/\/hosts$/);
    await expect(page.locator(`tr[data-host="${slug}"]`)).toHaveCount(0);
    expect(unexpected(problems)).toEqual([]);
  });

  test("hosts from the command line are read-only", async ({ page }) => {
    await page.goto("/hosts/unix-engine/edit");
    await hydrated(page);
    await expect(page.getByText("comes from Capstan's")).toBeVisible();
    await expect(page.getByRole("button", { name: "Save changes" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Remove host" })).toHaveCount(0);
  });
});
