import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, Page, test } from "@playwright/test";
import { dockerA, hydrated, unexpected, watchConsole } from "./support";

/**
 * Downloads as a browser makes them (Chromium asks for gzip, deflate and br): a container's
 * filesystem, an image saved as a tar and the audit CSV arrive whole (issue 19, item 4).
 */

const IMAGE = process.env.CAPSTAN_TEST_IMAGE ?? "capstan-test/busybox:latest";

/** Clicks the link and returns the downloaded file's path. */
async function download(page: Page, link: ReturnType<Page["getByRole"]>): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent("download"), link.click()]);
  expect(await file.failure()).toBeNull();
  const path = await file.path();
  expect(path).toBeTruthy();
  return path as string;
}

/** `tar -tvf`: the members with their sizes (throws when the archive is cut short). */
function tarMembers(path: string): Map<string, number> {
  const out = execFileSync("tar", ["-tvf", path], { encoding: "utf8" });
  const members = new Map<string, number>();
  for (const line of out.split("\n").filter(Boolean)) {
    const f = line.trim().split(/\s+/);
    members.set(f.slice(5).join(" ").replace(/^\.\//, ""), Number(f[2]));
  }
  return members;
}

/** RFC 4180 records (quoted fields may hold commas, quotes and newlines). */
function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n") {
      record.push(field.replace(/\r$/, ""));
      records.push(record);
      record = [];
      field = "";
    } else {
      field += c;
    }
  }
  expect(quoted, "the CSV ends inside a quoted field: cut off").toBe(false);
  expect(field + record.join(""), "the CSV ends mid-record: cut off").toBe("");
  return records;
}

test.describe("Downloads in the browser", () => {
  test("a container's filesystem, an image tar and the audit CSV arrive whole", async ({ page }, info) => {
    test.skip(info.project.name !== "desktop", "desktop only: the files are the same on a phone");
    test.setTimeout(180_000);
    const problems = watchConsole(page);
    const name = `e2e-dl-${Date.now() % 100000}`;
    // 4 MB that compresses very well, and 1 MB that does not: both must come through intact.
    dockerA("run", "--name", name, IMAGE, "sh", "-c",
      "yes capstan | head -c 4000000 > /big.txt && head -c 1000000 /dev/urandom > /noise.bin");
    try {
      await page.goto(`/hosts/unix-engine/containers/${name}/files`);
      await hydrated(page);
      const exported = tarMembers(await download(page, page.getByRole("link", { name: "Export filesystem" })));
      expect(exported.get("big.txt")).toBe(4_000_000);
      expect(exported.get("noise.bin")).toBe(1_000_000);

      const imageId = dockerA("image", "inspect", "-f", "{{.Id}}", IMAGE);
      await page.goto(`/images/unix-engine/${encodeURIComponent(imageId)}`);
      await hydrated(page);
      const saved = tarMembers(await download(page, page.getByRole("link", { name: "Export (save) as tar" })));
      expect([...saved.keys()]).toContain("manifest.json");
      const layers = [...saved.entries()].filter(([k]) => k.endsWith("layer.tar") || k.startsWith("blobs/"));
      expect(layers.length).toBeGreaterThan(0);

      // Enough audit rows that the CSV is far bigger than any buffer on the way.
      for (let i = 0; i < 120; i++) {
        const r = await page.request.post(`/api/v1/hosts/unix-engine/containers/${name}/stop?t=0`, {
          headers: { "sec-fetch-site": "same-origin" },
        });
        expect(r.status()).toBe(204);
      }
      // The page's filter, as the API reads it: the CSV holds exactly the rows the list does.
      // A request is answered once its audit row is committed: all 120 are there already.
      const filter = "action=container.stop&host=unix-engine";
      const oursIn = (l: { entries: { object?: string }[] }) => l.entries.filter((e) => e.object === name).length;
      const listed: { entries: { object?: string }[] } = await (await page.request.get(`/api/v1/audit?${filter}&limit=500`)).json();
      expect(oursIn(listed)).toBe(120);
      await page.goto(`/audit?${filter}`);
      await hydrated(page);
      const csv = readFileSync(await download(page, page.getByRole("link", { name: "Export CSV" })), "utf8");
      const records = csvRecords(csv);
      expect(records.slice(1).every((r) => r.length === records[0].length)).toBe(true);
      // Other tests stop containers on this host meanwhile: count this container's rows, which
      // only this test writes.
      const object = records[0].indexOf("object");
      const ours = records.slice(1).filter((r) => r[object] === name).length;
      expect(ours, "one record per row of the list").toBe(oursIn(listed));
      expect(records.length - 1).toBeGreaterThanOrEqual(listed.entries.length);
    } finally {
      dockerA("rm", "-f", name);
    }
    expect(unexpected(problems)).toEqual([]);
  });
});
