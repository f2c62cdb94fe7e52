// Shared setup for the browser flow tests: a static server for dist-e2e on 127.0.0.1, Debian's
// Chromium through playwright-core with the flags of docs/testing.md and a fresh profile, the fake
// Rust side configured before the page loads, and screenshots taken after two animation frames.
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, extname, normalize, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { createHmac } from "node:crypto";
import { deflateSync } from "node:zlib";
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

/** The vault password and accounts the flow files share. */
export const PASSWORD = "correct horse battery staple";
export const GITHUB = `otpauth://totp/GitHub:octo%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBV&issuer=GitHub`;
export const BANK = `otpauth://totp/Bank:me?secret=MFRGGZDFMZTWQ2LKNNWG23TPOA&issuer=Bank&digits=8`;
export const HOTP = `otpauth://hotp/Forum:me?secret=GEZDGNBVGY3TQOJQ&issuer=Forum&counter=0`;
/** A fake shell whose vault exists, is unlocked and holds `accounts`. */
export const unlockedWith = (accounts, extra = {}) => ({ firstRunDone: true, vaultPassword: PASSWORD, unlocked: true, accounts, ...extra });

/**
 * One static server per test file (started before its tests, closed after) and the page
 * openers: `open(fake, opts)` returns the app to drive; `withApp(fake, opts, fn)` runs `fn` on
 * it, then checks that the page threw nothing, broke no CSP rule and kept Object.prototype
 * frozen, and closes it.
 */
export function useApp() {
  let server;
  before(async () => (server = await startServer()));
  after(() => server.close());
  const open = (fake = {}, opts = {}) => openApp(server, fake, opts);
  async function withApp(fake, opts, fn) {
    const app = await open(fake, opts);
    try {
      await fn(app);
      assert.deepEqual(app.errors, [], "no uncaught errors in the page");
      assert.deepEqual(await app.page.evaluate(() => globalThis.__cspViolations), [], "no CSP violations");
      assert.ok(await app.page.evaluate(() => Object.isFrozen(Object.prototype)), "ran with Object.prototype frozen");
    } finally {
      await app.close();
    }
  }
  return { open, withApp };
}

const here = dirname(fileURLToPath(import.meta.url));
export const DIST = join(here, "..", "dist-e2e");
export const SHOTS = join(here, "..", "test-results", "screenshots");
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
// Stricter than the shell's CSP (no 'unsafe-inline' styles): a violation fails the test.
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-src 'none'";
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };

export function startServer() {
  if (!existsSync(join(DIST, "index.html"))) throw new Error(`${DIST} is missing: run vite build --mode e2e first`);
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^([/\\])+/, "");
    const file = join(DIST, path === "" ? "index.html" : path);
    if (!file.startsWith(DIST) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-security-policy": CSP });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Opens the app at 390×844 with the fake configured; returns { page, context, close, origin }. */
export async function openApp(server, fake = {}, { colorScheme = "light", locale = "en-US", init, clockAt } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "twofold-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: false, // --headless is in FLAGS, exactly as docs/testing.md gives them
    args: FLAGS,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    hasTouch: true,
    colorScheme,
    locale,
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.addInitScript((cfg) => {
    // tauri.conf.json sets freezePrototype: the app must run with a frozen Object.prototype.
    Object.freeze(Object.prototype);
    globalThis.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => globalThis.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    globalThis.__TWOFOLD_FAKE_CONFIG__ = cfg.fake;
    if (cfg.clearMs) globalThis.__TWOFOLD_CLIPBOARD_CLEAR_MS__ = cfg.clearMs;
  }, { fake, clearMs: init?.clipboardClearMs });
  if (clockAt !== undefined) await page.clock.install({ time: clockAt });
  await page.goto(`${origin}/`);
  return {
    page, context, origin, errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits two animation frames (so the new frame is painted), then writes a screenshot. */
export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

// RFC 6238 in Node, to check the codes the page shows independently of the page.
export function totp(secretB32, atMs, { digits = 6, period = 30 } = {}) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const bytes = [];
  for (const ch of secretB32.replace(/=+$/, "")) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) { bytes.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  const counter = Math.floor(atMs / 1000 / period);
  const msg = Buffer.alloc(8);
  msg.writeUInt32BE(Math.floor(counter / 2 ** 32), 0);
  msg.writeUInt32BE(counter >>> 0, 4);
  const mac = createHmac("sha1", Buffer.from(bytes)).update(msg).digest();
  const off = mac[mac.length - 1] & 0xf;
  const bin = mac.readUInt32BE(off) & 0x7fffffff;
  return String(bin % 10 ** digits).padStart(digits, "0");
}

/** A real (small, valid) PNG image: a 2×2 grid of black and white 8-pixel squares. */
export function pngBytes() {
  const w = 16, h = 16;
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 0; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const rows = [];
  for (let y = 0; y < h; y++) {
    rows.push(0);
    for (let x = 0; x < w; x++) rows.push(((x >> 3) ^ (y >> 3)) & 1 ? 0 : 255);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.from(rows))), chunk("IEND", Buffer.alloc(0)),
  ]);
}

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Fails on serious or critical axe findings. Evaluated through the DevTools protocol, so the
 * page's CSP does not apply to axe itself. */
export async function audit(page, where) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  });
  assert.deepEqual(found, [], `accessibility findings on ${where}`);
}
