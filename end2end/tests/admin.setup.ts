import { expect, test as setup } from "@playwright/test";
import { ADMIN_STATE } from "../playwright.config";
import { ADMIN, hydrated, screenshot, setupToken, watchConsole, unexpected } from "./support";

setup("a fresh Capstan has no way in but the setup token; setup makes the first admin", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/hosts");
  await expect(page).toHaveURL(/\/setup$/);
  await hydrated(page);
  await screenshot(page, "setup");

  await page.getByLabel("Setup token").fill("not-the-token");
  await page.getByLabel("Admin username").fill(ADMIN.username);
  await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await page.getByLabel("Password again").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("setup token is not valid");

  await page.getByLabel("Setup token").fill(setupToken());
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await expect(page).toHaveURL(/\/hosts$/);
  await expect(page.getByTestId("signed-in-user")).toHaveText(ADMIN.username);
  await page.context().storageState({ path: ADMIN_STATE });
  expect(unexpected(problems)).toEqual([]);
});
