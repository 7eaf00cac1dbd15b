import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { ADMIN, dockerA, hydrated, screenshot } from "./support";

const IMAGE = process.env.CAPSTAN_TEST_IMAGE ?? "capstan-test/busybox:latest";

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run with \`./dev test\``);
  return value;
}

/** A free port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The smallest load balancer that fails over: each new connection goes to the first backend
 *  that accepts it; a connection whose backend dies is cut, as a real one's would be. */
function failoverProxy(backends: number[]): Promise<{ port: number; close: () => void }> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.on("close", () => open.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    const attempt = (i: number) => {
      if (i >= backends.length) return client.destroy();
      const upstream = net.connect(backends[i], "127.0.0.1");
      let connected = false;
      upstream.once("connect", () => {
        connected = true;
        open.add(upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on("error", () => (connected ? client.destroy() : attempt(i + 1)));
      upstream.on("close", () => {
        open.delete(upstream);
        if (connected) client.destroy();
      });
      client.on("close", () => upstream.destroy());
    };
    attempt(0);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => {
          for (const s of open) s.destroy();
          server.close();
        },
      }),
    ),
  );
}

/** One Capstan process on the shared database, with its own data directory (so its own setup
 *  token) and the key directory every replica shares. */
async function replica(database: string, keyDir: string): Promise<{ proc: ChildProcess; port: number; data: string }> {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), "capstan-replica-"));
  const proc = spawn(
    need("CAPSTAN_E2E_BIN"),
    [
      "--listen", `127.0.0.1:${port}`,
      "--database", database,
      "--key-dir", keyDir,
      "--engine", `unix-engine=${need("CAPSTAN_TEST_UNIX_URL")}`,
      "--monitor-interval", "1",
    ],
    {
      env: { ...process.env, CAPSTAN_DATA: data, CAPSTAN_LOG: "warn", LEPTOS_SITE_ROOT: need("CAPSTAN_E2E_SITE") },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`a replica exited (${proc.exitCode}) before it served`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return { proc, port, data };
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("a replica did not serve within 20 s");
}

/** Tick numbers of the log lines on the page, in order. */
async function ticks(lines: import("@playwright/test").Locator): Promise<number[]> {
  return (await lines.locator(".log-line").allInnerTexts()).map((t) => Number(t.match(/tick (\d+)/)?.[1] ?? "NaN"));
}

test.describe("Replicas", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("two replicas on one PostgreSQL behind a failover proxy: kill -9 the serving one; logs and terminal go on, no answered action is missing from the audit", async ({ browser }, info) => {
    test.skip(info.project.name !== "desktop", "desktop only: it starts servers of its own");
    test.setTimeout(120_000);
    const admin = need("CAPSTAN_TEST_PG_URL");
    const dbName = `capstan_e2e_${Date.now()}`;
    execFileSync("psql", [admin, "-q", "-c", `CREATE DATABASE ${dbName}`]);
    const database = admin.replace(/\/[^/?]*(\?.*)?$/, `/${dbName}`);
    const keyDir = mkdtempSync(join(tmpdir(), "capstan-keys-"));
    const name = `e2e-replicas-${Date.now()}`;
    const idle = `${name}-idle`;
    const servers: ChildProcess[] = [];
    let proxy: { port: number; close: () => void } | undefined;
    try {
      // The first replica makes the schema and the keys; the second starts on them.
      const a = await replica(database, keyDir);
      servers.push(a.proc);
      const b = await replica(database, keyDir);
      servers.push(b.proc);
      proxy = await failoverProxy([a.port, b.port]);
      const base = `http://127.0.0.1:${proxy.port}`;

      const setup = await fetch(`http://127.0.0.1:${a.port}/api/v1/setup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          setup_token: readFileSync(join(a.data, "setup-token"), "utf8").trim(),
          username: ADMIN.username,
          password: ADMIN.password,
        }),
      });
      expect(setup.status).toBe(201);

      const id = dockerA(
        "run", "-d", "--name", name, "--label", `e2e=${name}`, IMAGE,
        "sh", "-c", 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done',
      );
      dockerA("create", "--name", idle, "--label", `e2e=${name}`, IMAGE, "true");

      const context = await browser.newContext({ baseURL: base });
      const pageErrors: string[] = [];
      const logsPage = await context.newPage();
      logsPage.on("pageerror", (e) => pageErrors.push(e.message));
      await logsPage.goto("/login");
      await hydrated(logsPage);
      await logsPage.getByLabel("Username").fill(ADMIN.username);
      await logsPage.getByLabel("Password").fill(ADMIN.password);
      await logsPage.getByRole("button", { name: "Sign in" }).click();
      await expect(logsPage).toHaveURL(/\/hosts$/);

      // A log follow and a terminal, both open on the first replica.
      const container = `/hosts/unix-engine/containers/${id}`;
      await logsPage.goto(`${container}/logs`);
      await hydrated(logsPage);
      const lines = logsPage.getByTestId("log-lines");
      await expect(lines.locator(".log-line").first()).toBeVisible({ timeout: 20_000 });
      const termPage = await context.newPage();
      termPage.on("pageerror", (e) => pageErrors.push(e.message));
      await termPage.goto(`${container}/terminal`);
      await hydrated(termPage);
      const state = termPage.getByTestId("terminal-state");
      await expect(state).toHaveText(/^\s*connected\s*$/, { timeout: 20_000 });
      await termPage.locator(".terminal-screen .xterm").click();
      await termPage.keyboard.type("echo before-$((6*7))");
      await termPage.keyboard.press("Enter");
      await expect(termPage.locator(".terminal-screen .xterm-rows")).toContainText("before-42", { timeout: 15_000 });

      // Actions answered by the first replica, then it dies at once, without a word.
      const answered = await Promise.all(
        Array.from({ length: 20 }, () =>
          context.request.post(`/api/v1/hosts/unix-engine/containers/${idle}/stop?t=0`, {
            headers: { "sec-fetch-site": "same-origin" },
          }),
        ),
      );
      a.proc.kill("SIGKILL");
      for (const r of answered) expect(r.status()).toBe(204);
      const before = (await ticks(lines)).at(-1) ?? 0;

      // The log follow goes on through the other replica: later lines, none twice, none missed.
      await expect.poll(async () => (await ticks(lines)).at(-1) ?? 0, { timeout: 20_000 }).toBeGreaterThan(before + 10);
      const seen = await ticks(lines);
      for (let i = 1; i < seen.length; i++) expect(seen[i], `line after tick ${seen[i - 1]}`).toBe(seen[i - 1] + 1);
      await screenshot(logsPage, "replicas-logs-after-failover");

      // The terminal opens a new session by itself, on the other replica.
      await expect(state).toHaveText(/^\s*connected\s*$/, { timeout: 20_000 });
      await expect(termPage.locator(".terminal-screen .xterm-rows")).toContainText("the connection to the last one was lost");
      await termPage.locator(".terminal-screen .xterm").click();
      await termPage.keyboard.type("echo after-$((6*7))");
      await termPage.keyboard.press("Enter");
      await expect(termPage.locator(".terminal-screen .xterm-rows")).toContainText("after-42", { timeout: 15_000 });
      await screenshot(termPage, "replicas-terminal-after-failover");

      // Every action the dead replica answered is in the trail the survivor reads.
      const audit = await context.request.get(`/api/v1/audit?action=container.stop&host=unix-engine&limit=500`);
      expect(audit.status()).toBe(200);
      const rows = (await audit.json()).entries.filter((e: { object?: string }) => e.object === idle);
      expect(rows.length).toBe(20);
      expect(pageErrors).toEqual([]);
      await context.close();
    } finally {
      proxy?.close();
      for (const s of servers) s.kill("SIGKILL");
      for (const c of [name, idle]) {
        try {
          dockerA("rm", "-f", c);
        } catch {
          // Already gone.
        }
      }
      rmSync(keyDir, { recursive: true, force: true });
    }
  });
});
