import { expect, Page, test } from "@playwright/test";
import { dockerA, hydrated, screenshot, unexpected, watchConsole } from "./support";

const IMAGE = process.env.CAPSTAN_TEST_IMAGE ?? "capstan-test/busybox:latest";

/** Removes the named containers from engine a, whatever state the test left them in. */
function cleanup(...names: string[]) {
  for (const name of names) {
    try {
      dockerA("rm", "-f", "-v", name);
    } catch {
      // Already gone: the test removed it.
    }
  }
}

function engineState(name: string): string {
  return dockerA("inspect", "-f", "{{.State.Status}}", name);
}

async function open(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

test.describe("Containers", () => {
  test("run from the form, see it listed, stop and start it, look inside, upload a file, remove it", async ({ page }, info) => {
    test.setTimeout(180_000);
    const p = info.project.name;
    const name = `e2e-ctr-${p}-${Date.now()}`;
    const volume = `${name}-data`;
    const problems = watchConsole(page);
    try {
      // The run form, with a field error shown at its field.
      await open(page, "/run?host=unix-engine");
      await expect(page.getByRole("heading", { name: "Run a container" })).toBeVisible();
      await page.getByLabel("Image").fill(IMAGE);
      await page.getByLabel("Name", { exact: true }).fill(name);
      await page.getByLabel("Command").fill("sleep 600");
      await page.getByLabel("Environment").fill("GREETING=hello\nAPI_TOKEN=s3cret-value");
      await page.getByLabel("Labels").fill(`e2e=${name}`);
      await page.getByLabel("Ports").fill("99999:80");
      await screenshot(page, `run-form-${p}`);
      await page.getByRole("button", { name: "Create and start" }).click();
      const portsField = page.locator("label.field", { has: page.locator('textarea[name="ports"]') });
      await expect(portsField.locator(".field-error")).not.toBeEmpty();
      await expect(portsField).toHaveClass(/field-invalid/);
      await screenshot(page, `run-form-error-${p}`);
      // Nothing was created by the refused attempt.
      expect(dockerA("ps", "-aq", "--filter", `name=^/${name}$`)).toBe("");

      // A published port (random host port) and a named volume, as `docker run -p 80 -v`.
      await page.getByLabel("Ports").fill("80");
      await page.locator('textarea[name="volumes"]').fill(`${volume}:/data`);
      await page.getByRole("button", { name: "Create and start" }).click();
      await expect(page).toHaveURL(/\/hosts\/unix-engine\/containers\/[0-9a-f]{12,}$/, { timeout: 60_000 });
      await hydrated(page);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
      await expect(page.getByTestId("container-state")).toContainText("running");
      expect(engineState(name)).toBe("running");
      expect(dockerA("port", name, "80/tcp")).toMatch(/:\d+$/);
      expect(dockerA("inspect", "-f", "{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}", name)).toBe(`${volume}:/data`);

      // Overview: the secret-looking value is masked until revealed.
      const env = page.getByTestId("environment");
      await expect(env.locator('tr[data-env="GREETING"]')).toContainText("hello");
      await expect(env.locator('tr[data-env="API_TOKEN"]')).not.toContainText("s3cret-value");
      await expect(page.locator("pre.pre")).not.toContainText("s3cret-value");
      await screenshot(page, `container-overview-${p}`);
      await env.getByRole("button", { name: "Reveal secrets" }).click();
      await expect(env.locator('tr[data-env="API_TOKEN"]')).toContainText("s3cret-value");
      await expect(page.getByTestId("container-labels")).toContainText(name);

      // Stop, then start, each checked on the engine itself.
      await page.getByRole("button", { name: "Stop", exact: true }).click();
      await expect(page.getByTestId("action-outcome")).toContainText(`Stopped ${name}`, { timeout: 30_000 });
      await expect(page.getByTestId("container-state")).toContainText("exited");
      expect(engineState(name)).toBe("exited");
      await page.getByRole("button", { name: "Start", exact: true }).click();
      await expect(page.getByTestId("action-outcome")).toContainText(`Started ${name}`);
      await expect(page.getByTestId("container-state")).toContainText("running");
      expect(engineState(name)).toBe("running");

      // Processes.
      await page.getByRole("navigation", { name: "Container" }).getByRole("link", { name: "Processes" }).click();
      await expect(page.getByTestId("processes")).toContainText("sleep 600");
      await screenshot(page, `container-processes-${p}`);

      // Files: into /etc (the busybox image has no /tmp), upload a file, see it listed and in
      // the container. The volume's mount point is listed too.
      await page.getByRole("navigation", { name: "Container" }).getByRole("link", { name: "Files" }).click();
      await expect(page.getByTestId("files").locator('tr[data-file="data"]')).toBeVisible();
      await page.getByTestId("files").locator('tr[data-file="etc"] a.host-link').click();
      await expect(page).toHaveURL(/\/files\?path=%2Fetc$/);
      await expect(page.getByTestId("breadcrumb")).toContainText("etc");
      await page.locator('.upload-form input[type="file"]').setInputFiles({
        name: "e2e-upload.txt",
        mimeType: "text/plain",
        buffer: Buffer.from("hello from the browser\n"),
      });
      await page.getByRole("button", { name: "Upload", exact: true }).click();
      await expect(page.getByTestId("upload-outcome")).toContainText("Uploaded e2e-upload.txt");
      const uploaded = page.getByTestId("files").locator('tr[data-file="e2e-upload.txt"]');
      await expect(uploaded).toBeVisible();
      await expect(uploaded).toContainText("23 B");
      expect(dockerA("exec", name, "cat", "/etc/e2e-upload.txt")).toBe("hello from the browser");
      await screenshot(page, `container-files-${p}`);

      // Changes: the upload shows as an added file.
      await page.getByRole("navigation", { name: "Container" }).getByRole("link", { name: "Changes" }).click();
      const change = page.getByTestId("changes").locator("li", { hasText: "/etc/e2e-upload.txt" });
      await expect(change).toContainText("added");
      await screenshot(page, `container-changes-${p}`);

      // The list: filtered by name (in the URL), and by label.
      await open(page, `/containers?q=${encodeURIComponent(name)}`);
      const row = page.locator(`tr[data-container="${name}"]`);
      await expect(row).toContainText("running");
      await expect(row).toContainText("unix-engine");
      await expect(page.locator("tr[data-container]")).toHaveCount(1);
      await open(page, `/containers?label=${encodeURIComponent(`e2e=${name}`)}&state=running`);
      await expect(page.locator(`tr[data-container="${name}"]`)).toBeVisible();
      await expect(page.locator('select[name="state"]')).toHaveValue("running");
      await open(page, "/containers");
      await expect(page.locator(`tr[data-container="${name}"]`)).toBeVisible();
      // The stopped engine is a notice, not an error page.
      await expect(page.getByTestId("host-notice").filter({ hasText: "stopped-engine" })).toBeVisible();
      await screenshot(page, `containers-${p}`);

      // Remove, with confirmation naming it.
      await page.locator(`tr[data-container="${name}"] a`).first().click();
      await expect(page).toHaveURL(/\/containers\/[0-9a-f]{12,}$/);
      await hydrated(page);
      await page.getByText("Remove…").click();
      await page.getByLabel("Force: stop it first").check();
      await page.getByRole("button", { name: "Remove container" }).click();
      const confirm = page.locator("span.confirm[role=group]").filter({ hasText: `Remove container ${name} on` });
      await expect(confirm).toBeVisible();
      await confirm.getByRole("button", { name: "Remove container" }).click();
      await expect(page).toHaveURL(/\/containers\?host=unix-engine$/, { timeout: 30_000 });
      expect(dockerA("ps", "-aq", "--filter", `name=^/${name}$`)).toBe("");
      expect(unexpected(problems)).toEqual([]);
    } finally {
      cleanup(name);
      try {
        dockerA("volume", "rm", "-f", volume);
      } catch {
        // already gone
      }
    }
  });

  test("bulk stop and remove from the list, with a confirmation that names them", async ({ page }, info) => {
    test.setTimeout(120_000);
    const tag = `e2e-bulk-${info.project.name}-${Date.now()}`;
    const names = [`${tag}-a`, `${tag}-b`];
    const problems = watchConsole(page);
    try {
      for (const n of names) dockerA("run", "-d", "--name", n, "--label", `e2e=${tag}`, IMAGE, "sleep", "600");
      await open(page, `/containers?label=${encodeURIComponent(`e2e=${tag}`)}`);
      await expect(page.locator("tr[data-container]")).toHaveCount(2);
      await page.getByLabel("Select all shown containers").check();
      await expect(page.getByTestId("bulk-bar")).toContainText("2 selected");
      await screenshot(page, `containers-bulk-${info.project.name}`);
      await page.getByTestId("bulk-bar").getByRole("button", { name: "Stop", exact: true }).click();
      await expect(page.getByTestId("bulk-outcome")).toContainText("Stopped", { timeout: 30_000 });
      for (const n of names) expect(engineState(n)).toBe("exited");

      await page.getByLabel("Select all shown containers").check();
      await page.getByTestId("bulk-bar").getByRole("button", { name: "Remove", exact: true }).click();
      const confirm = page.getByTestId("bulk-bar").getByRole("group");
      await expect(confirm).toContainText(names[0]);
      await expect(confirm).toContainText(names[1]);
      await confirm.getByRole("button", { name: "Remove", exact: true }).click();
      await expect(page.getByTestId("bulk-outcome")).toContainText("Removed");
      await expect(page.getByTestId("containers-empty")).toBeVisible();
      for (const n of names) expect(dockerA("ps", "-aq", "--filter", `name=^/${n}$`)).toBe("");
      expect(unexpected(problems)).toEqual([]);
    } finally {
      cleanup(...names);
    }
  });
  test("edit a container from its page: new settings, same name; the list shows live CPU and memory", async ({ page }, info) => {
    test.setTimeout(180_000);
    const p = info.project.name;
    const name = `e2e-edit-${p}-${Date.now()}`;
    const problems = watchConsole(page);
    try {
      dockerA("run", "-d", "--name", name, "--label", `e2e=${name}`, "-e", "COLOUR=blue", IMAGE, "sleep", "600");
      const oldId = dockerA("inspect", "-f", "{{.Id}}", name);

      // The list: the running container's live numbers arrive in the browser.
      await open(page, `/containers?label=${encodeURIComponent(`e2e=${name}`)}`);
      const row = page.locator(`tr[data-container="${name}"]`);
      await expect(row.locator(".usage")).toBeVisible({ timeout: 30_000 });
      await expect(row.locator(".usage")).toContainText("%");
      await screenshot(page, `containers-usage-${p}`);

      // docker ps words as filters: health and the image it was made from.
      const label = encodeURIComponent(`e2e=${name}`);
      await open(page, `/containers?label=${label}&health=unhealthy`);
      await expect(page.getByTestId("containers-empty")).toBeVisible();
      await open(page, `/containers?label=${label}&health=none&ancestor=${encodeURIComponent(IMAGE)}`);
      await expect(row).toBeVisible();
      await expect(page.locator('select[name="health"]')).toHaveValue("none");
      await screenshot(page, `containers-filters-${p}`);

      // On the container's page the sidebar marks Containers, not Hosts.
      await row.locator("a.host-link").click();
      await expect(page).toHaveURL(/\/hosts\/unix-engine\/containers\/[0-9a-f]{12,}$/);
      await hydrated(page);
      // (On phones the sidebar is folded away, so it is found by CSS, not by role.)
      await expect(page.locator('nav[aria-label="Main"] a[href="/containers"]')).toHaveAttribute("aria-current", "page");
      await expect(page.locator('nav[aria-label="Main"] a[href="/hosts"]')).not.toHaveAttribute("aria-current", "page");

      // Edit: the form holds its settings and keeps its name.
      await page.getByRole("link", { name: "Edit", exact: true }).click();
      await expect(page).toHaveURL(/\/edit$/);
      await hydrated(page);
      await expect(page.getByRole("heading", { name: "Edit a container" })).toBeVisible();
      await expect(page.locator('input[name="name"]')).toHaveValue(name);
      await expect(page.locator('input[name="name"]')).toHaveAttribute("readonly", "");
      await expect(page.getByLabel("Environment")).toHaveValue("COLOUR=blue");
      // What the replacement will not have is said before saving.
      await expect(page.getByTestId("not-carried")).toContainText("which the engine assigned");
      await page.getByLabel("Environment").fill("COLOUR=green");
      await page.getByLabel("Ports").fill("80");
      // The rarer words of docker run sit in folding parts.
      await page.locator("details.advanced summary", { hasText: "Limits" }).click();
      await page.getByLabel("Process limit").fill("100");
      await page.locator("details.advanced summary", { hasText: "Process:" }).click();
      await page.getByLabel("Stop timeout (seconds)").fill("7");
      await page.getByTestId("host-access").locator("summary").click();
      await expect(page.getByLabel(/^Privileged/)).toBeVisible();
      await expect(page.getByLabel("PID namespace")).toBeVisible();
      await screenshot(page, `container-edit-${p}`);
      await page.getByRole("button", { name: "Save and replace" }).click();

      // The same name, the new settings, running like before; the old container is gone.
      await expect(page).toHaveURL(/\/hosts\/unix-engine\/containers\/[0-9a-f]{12,}$/, { timeout: 60_000 });
      await hydrated(page);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
      await expect(page.getByTestId("container-state")).toContainText("running");
      await expect(page.getByTestId("environment").locator('tr[data-env="COLOUR"]')).toContainText("green");
      const newId = dockerA("inspect", "-f", "{{.Id}}", name);
      expect(newId).not.toBe(oldId);
      expect(engineState(name)).toBe("running");
      expect(dockerA("port", name, "80/tcp")).toMatch(/:\d+$/);
      expect(dockerA("inspect", "-f", "{{.HostConfig.PidsLimit}} {{.Config.StopTimeout}}", name)).toBe("100 7");
      expect(dockerA("ps", "-aq", "--no-trunc", "--filter", `id=${oldId}`)).toBe("");
      expect(unexpected(problems)).toEqual([]);
    } finally {
      cleanup(name);
    }
  });
});
