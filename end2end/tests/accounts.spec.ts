import { expect, test } from "@playwright/test";
import { ADMIN, hydrated, screenshot, signIn, watchConsole, unexpected } from "./support";

test.describe("Signing in and out", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("login → Hosts page → logout → back at login", async ({ page }, info) => {
    const problems = watchConsole(page);
    await page.goto("/hosts");
    await expect(page).toHaveURL(/\/login\?next=\/hosts$/);
    await hydrated(page);
    await screenshot(page, `login-${info.project.name}`);

    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill("wrong password here");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toContainText("wrong username or password");

    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/hosts$/);
    await expect(page.locator('tr[data-host="unix-engine"]')).toContainText("up");

    if (info.project.name === "phone") await page.getByLabel("Menu").click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/hosts");
    await expect(page).toHaveURL(/\/login\?next=\/hosts$/);
    expect(unexpected(problems)).toEqual([]);
  });
});

test.describe("Users and access", () => {
  test("an admin adds a user and grants one host; that user sees only it", async ({ page, browser }, info) => {
    test.skip(info.project.name !== "desktop", "desktop only: it creates users");
    const problems = watchConsole(page);
    await page.goto("/users");
    await hydrated(page);
    await page.getByLabel("Username").fill("dev");
    await page.getByLabel("Password").fill("a developer password");
    await page.getByRole("button", { name: "Add user" }).click();
    await expect(page.locator('tr[data-user="dev"]')).toContainText("active");

    const grantForm = page.locator("form", { has: page.getByRole("button", { name: "Grant" }) });
    await grantForm.getByLabel("User").selectOption({ label: "dev" });
    await grantForm.getByLabel("Host").selectOption("unix-engine");
    await grantForm.getByLabel("Role").selectOption("viewer");
    await grantForm.getByRole("button", { name: "Grant" }).click();
    await expect(page.locator('tr[data-access="unix-engine"]')).toContainText("dev");
    await screenshot(page, "users");

    const devContext = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const dev = await devContext.newPage();
    await signIn(dev, "dev", "a developer password");
    await expect(dev).toHaveURL(/\/hosts$/);
    await expect(dev.locator('tr[data-host="unix-engine"]')).toBeVisible();
    await expect(dev.locator("tbody tr")).toHaveCount(1);
    await expect(dev.getByRole("link", { name: "Users & access" })).toHaveCount(0);
    const res = await dev.goto("/users");
    expect(res?.status()).toBe(403);
    await expect(dev.getByRole("heading", { name: "Not allowed", exact: true })).toBeVisible();
    await screenshot(dev, "not-allowed");
    await devContext.close();

    // Disabling ends dev's access; then remove the user with a confirmation that names them.
    await page.locator('tr[data-user="dev"]').getByRole("button", { name: "Delete" }).click();
    await expect(page.locator('tr[data-user="dev"]')).toContainText("Delete user dev?");
    await page.locator('tr[data-user="dev"] .confirm').getByRole("button", { name: "Delete" }).click();
    await expect(page.locator('tr[data-user="dev"]')).toHaveCount(0);
    expect(unexpected(problems)).toEqual([]);
  });

  test("a person makes an API token, sees it once, and revokes it", async ({ page, request }, info) => {
    await page.goto("/account");
    await hydrated(page);
    const name = `e2e-${info.project.name}`;
    await page.getByLabel("Name").fill(name);
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = await page.getByTestId("new-token").inputValue();
    expect(secret).toMatch(/^cap_/);
    await expect(page.locator(`tr[data-token="${name}"]`)).toBeVisible();
    await screenshot(page, `account-${info.project.name}`);

    const me = await request.get("/api/v1/me", { headers: { authorization: `Bearer ${secret}` } });
    expect(me.status()).toBe(200);

    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId("new-token")).toHaveCount(0);
    const row = page.locator(`tr[data-token="${name}"]`);
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.locator(".confirm").getByRole("button", { name: "Revoke" }).click();
    await expect(row).toHaveCount(0);
    const after = await request.get("/api/v1/me", { headers: { authorization: `Bearer ${secret}` } });
    expect(after.status()).toBe(401);
  });
});

test.describe("API reference", () => {
  test("every operation of the served document is browsable, with its answers", async ({ page, request }, info) => {
    const problems = watchConsole(page);
    const doc = await (await request.get("/api/v1/openapi.json")).json();
    const operations = Object.values(doc.paths as Record<string, object>).reduce(
      (n: number, item) => n + Object.keys(item).length,
      0,
    );
    await page.goto("/api-reference");
    await hydrated(page);
    await expect(page.locator("details.api-op[data-operation]")).toHaveCount(operations);
    await expect(page.locator(".page-summary")).toContainText(`${operations} operations`);
    const stop = page.locator('details[data-operation="containers.stop"]');
    await stop.locator("summary").click();
    await expect(stop.getByRole("table", { name: "Answers" })).toContainText("204");
    await expect(stop.getByRole("table", { name: "Parameters" })).toContainText("host");
    await page.getByRole("link", { name: /^containers/ }).first().click();
    await screenshot(page, `api-reference-${info.project.name}`);
    expect(unexpected(problems)).toEqual([]);
  });
});
