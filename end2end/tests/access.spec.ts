import { expect, test } from "@playwright/test";
import { dockerA, hydrated, screenshot, signIn, unexpected, watchConsole } from "./support";

test.describe("Teams, host access and the audit log", () => {
  test("an admin makes a team, adds a user, grants the team a host; the user sees it", async ({ page, browser }, info) => {
    test.skip(info.project.name !== "desktop", "desktop only: it creates users and teams");
    const problems = watchConsole(page);
    const user = "teammate";
    const res = await page.request.post("/api/v1/users", {
      data: { username: user, password: "a teammate password" },
      headers: { "sec-fetch-site": "same-origin" },
    });
    expect(res.status()).toBe(201);

    await page.goto("/teams");
    await hydrated(page);
    await page.getByLabel("Name").fill("web-team");
    await page.getByRole("button", { name: "Create team" }).click();
    const card = page.locator('article[data-team="web-team"]');
    await expect(card).toBeVisible();
    await card.getByLabel("User to add to web-team").selectOption({ label: user });
    await card.getByRole("button", { name: "Add" }).click();
    await expect(card.getByLabel("Members of web-team")).toContainText(user);

    await page.goto("/hosts/unix-engine/access");
    await hydrated(page);
    const form = page.locator("form", { has: page.getByRole("button", { name: "Grant" }) });
    await form.getByLabel("User or team").selectOption({ label: "team web-team" });
    await form.getByLabel("Role").selectOption("operator");
    await form.getByRole("button", { name: "Grant" }).click();
    await expect(page.locator('tr[data-grant^="team:"]')).toContainText("via team web-team: " + user);

    const ctx = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const member = await ctx.newPage();
    await signIn(member, user, "a teammate password");
    await expect(member).toHaveURL(/\/hosts$/);
    await expect(member.locator('tr[data-host="unix-engine"]')).toBeVisible();
    await expect(member.locator("tbody tr")).toHaveCount(1);

    // An operator sees the names of a container's environment, not the values.
    const name = `e2e-env-${Date.now() % 100000}`;
    dockerA("create", "--name", name, "-e", "DB_PASSWORD=hunter2", "-e", "MODE=blue", process.env.CAPSTAN_TEST_IMAGE ?? "capstan-test/busybox:latest", "true");
    try {
      await member.goto(`/hosts/unix-engine/containers/${name}`);
      await hydrated(member);
      await expect(member.getByTestId("env-hidden")).toBeVisible();
      await expect(member.locator('tr[data-env="MODE"]')).toContainText("hidden");
      expect(await member.content()).not.toContain("hunter2");
      await screenshot(member, "container-env-hidden-desktop");
    } finally {
      dockerA("rm", "-f", name);
    }
    await ctx.close();
    expect(unexpected(problems)).toEqual([]);
  });

  test("the audit page answers who stopped this container, and when", async ({ page }, info) => {
    const name = `e2e-audit-${info.project.name}-${Date.now() % 100000}`;
    dockerA("run", "-d", "--name", name, process.env.CAPSTAN_TEST_IMAGE ?? "capstan-test/busybox:latest", "sleep", "300");
    try {
      const stop = await page.request.post(`/api/v1/hosts/unix-engine/containers/${name}/stop?t=0`, {
        headers: { "sec-fetch-site": "same-origin" },
      });
      expect(stop.status()).toBe(204);
      await page.goto(`/audit?action=container.stop&host=unix-engine`);
      await hydrated(page);
      const row = page.locator("tr", { hasText: name });
      await expect(row).toContainText("admin");
      await expect(row).toContainText("container.stop");
      await expect(row).toContainText("ok 204");
      await screenshot(page, `audit-${info.project.name}`);
      await page.goto("/teams");
      await hydrated(page);
      await screenshot(page, `teams-${info.project.name}`);
      await page.goto("/hosts/unix-engine/access");
      await hydrated(page);
      await expect(page.getByRole("heading", { name: "Guardrails for non-admins" })).toBeVisible();
      await screenshot(page, `host-access-${info.project.name}`);
    } finally {
      dockerA("rm", "-f", name);
    }
  });
});
