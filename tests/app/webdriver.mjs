// What the real-app tests share: Xvfb on a free display, tauri-driver, and a minimal W3C
// WebDriver client over HTTP with Node's fetch (docs/testing.md, "The real app in a window").
// Every process started here is stopped by `stopAll` (by its PID, newest first).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import net from "node:net";

const children = [];

/** Stops every process `start` started, newest first. */
export function stopAll() {
  for (const c of children.reverse()) c.kill("SIGTERM");
  children.length = 0;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function portOpen(port) {
  return new Promise((res) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      s.end();
      res(true);
    });
    s.on("error", () => res(false));
  });
}

export async function waitFor(what, fn, timeoutMs = 20000, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

export function start(cmd, args, env) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  child.log = () => log;
  children.push(child);
  return child;
}

/** Xvfb on a free display: no lock file before, its socket after. */
export async function startXvfb() {
  for (let n = 90 + (process.pid % 50); n < 250; n++) {
    if (existsSync(`/tmp/.X${n}-lock`)) continue;
    const x = start("Xvfb", [`:${n}`, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"]);
    let exited = false;
    x.once("exit", () => (exited = true));
    const ok = await waitFor("Xvfb", async () => exited || existsSync(`/tmp/.X11-unix/X${n}`), 10000, 50)
      .then(() => !exited, () => false);
    if (ok) return `:${n}`;
    x.kill();
  }
  throw new Error("no free X display");
}

// --- a minimal W3C WebDriver client -------------------------------------------------------
export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }
  static async create(base, application) {
    const body = { capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application } } } };
    try {
      return new Session(base, (await wd(base, "POST", "/session", body)).sessionId);
    } catch (e) {
      // WebKitWebDriver once never answered a new session on a loaded CI machine (the app had
      // started and quit five times before): that is the driver's session set-up, not the
      // app's behaviour. Said loudly, with what the driver and the app printed; tried once more.
      if (!(e instanceof DriverSilent)) throw e;
      driverHung(e, application);
      return new Session(base, (await wd(base, "POST", "/session", body)).sessionId);
    }
  }
  cmd(method, path, body) {
    return wd(this.base, method, `/session/${this.id}${path}`, body);
  }
  async find(using, value) {
    const els = await this.cmd("POST", "/elements", { using, value });
    return els.map((e) => Object.values(e)[0]);
  }
  async waitOne(what, using, value, timeoutMs) {
    return waitFor(what, async () => (await this.find(using, value))[0], timeoutMs);
  }
  button(text, timeoutMs) {
    return this.waitOne(`button "${text}"`, "xpath", `//button[normalize-space()="${text}"]`, timeoutMs);
  }
  click(el) {
    return this.cmd("POST", `/element/${el}/click`, {});
  }
  type(el, text) {
    return this.cmd("POST", `/element/${el}/value`, { text });
  }
  text(el) {
    return this.cmd("GET", `/element/${el}/text`);
  }
  script(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }
  async screenshot(name, dir = resolve(process.env.TWOFOLD_SCREENSHOTS ?? "target/app-screenshots")) {
    // Two animation frames, so the frame captured is the one on screen now.
    await this.cmd("POST", "/execute/async", {
      script: "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
      args: [],
    });
    const png = await this.cmd("GET", "/screenshot");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.png`), Buffer.from(png, "base64"));
  }
  async quit() {
    try {
      await this.cmd("DELETE", "");
    } catch (e) {
      if (!(e instanceof DriverSilent)) throw e;
      driverHung(e);
    }
  }
}

/** The first run as a user meets it: Accept, Continue, the vault password twice, Create vault;
 * resolves on the Add screen. `beforeCreate` runs with the form filled (e.g. a screenshot). */
export async function firstRun(s, password, beforeCreate = async () => {}) {
  await s.click(await s.button("Accept"));
  await s.click(await s.button("Continue"));
  await s.type(await s.waitOne("Password", "css selector", 'input[aria-label="Password"]'), password);
  await s.type(await s.waitOne("Confirm password", "css selector", 'input[aria-label="Confirm password"]'), password);
  await beforeCreate();
  await s.click(await s.button("Create vault"));
  await s.button("Scan QR Code", 30000); // the Add screen (key derivation takes a moment)
}

/** A WebDriver request that got no answer in time. */
export class DriverSilent extends Error {}

/** Prints a hung WebDriver call with the driver's and the app's output, and ends the app. */
function driverHung(e, application = process.env.TWOFOLD_APP_BIN) {
  const logs = children.map((c) => `--- ${c.spawnargs.join(" ")}\n${c.log()}`).join("\n");
  console.log(`# DRIVER HUNG: ${e.message}\n${logs.split("\n").map((l) => `# ${l}`).join("\n")}`);
  // The app's own command line starts with its path (never this test's).
  if (application) spawnSync("pkill", ["-f", `^${application.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`]);
}

/** One WebDriver call; a call that gets no answer in `timeoutMs` throws [`DriverSilent`]. */
export async function wd(base, method, path, body, timeoutMs = 60000) {
  let res;
  try {
    res = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    if (e?.name === "TimeoutError") throw new DriverSilent(`${method} ${path}: no answer in ${timeoutMs / 1000} s`);
    throw e;
  }
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json)}`);
  }
  return json.value;
}

/** tauri-driver with WebKitWebDriver on `display`, `env` added to the app's environment;
 * resolves when both of its ports accept connections (or a session would be refused). */
export async function startDriver(display, env) {
  const port = 4444 + (process.pid % 1000) * 2;
  start("tauri-driver", ["--port", String(port), "--native-port", String(port + 1),
    "--native-driver", "/usr/bin/WebKitWebDriver"], { DISPLAY: display, ...env });
  await waitFor("tauri-driver's ports", async () => (await portOpen(port)) && (await portOpen(port + 1)));
  return `http://127.0.0.1:${port}`;
}
