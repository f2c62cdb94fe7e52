// A fake of the Rust shell for the browser flow tests (built only by `vite build --mode e2e`).
// It implements the commands, errors and events of docs/ipc.md with a small in-memory vault and
// computes real RFC 6238/4226 codes with WebCrypto, so the UI sees what the real shell would send.
// Tests configure it before the page loads through window.__TWOFOLD_FAKE_CONFIG__ and drive it
// through window.__twofoldFake.
import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { DEFAULT_SETTINGS } from "../lib/types";
import { MIN_SCORE, passwordScore } from "./fake-strength";
import type {
  AccountPatch, AccountView, AddResult, AppError, AppStatus, BackupStatus, CodeView, ErrorKind, ImportFormat,
  ImportReportView, ManualAccount, MigrationProgress, Permission, PermissionState, Platform, Settings, SyncDevice, SyncProblem, SyncStatus, UiLocale,
  ContainerPolicies, ContainerPreview, ContainerSyncView, ContainerView, RemovedByKind, RemovedView,
} from "../lib/types";
import type {
  ActivityView, DeclineReason, LocationView, PushAccountView, PushChallengeView, PushDecision, PushEnrolPreview,
  PushDelivery, PushEnrolWarning, PushPollStatus,
} from "../lib/push-types";

/** The outcome of add commands that read OTP accounts. */
type AccountsAdded = Extract<AddResult, { kind: "added" }>;

export interface FakeConfig {
  platform?: Platform;
  firstRunDone?: boolean;
  /** A password: the vault exists (locked) with it. */
  vaultPassword?: string;
  unlocked?: boolean;
  biometricsAvailable?: boolean;
  /** Phones: the biometrics changed since biometric unlock was turned on (its key is gone). */
  biometricsChanged?: boolean;
  /** Desktop: false makes the system tray missing (keepInTray is refused). */
  tray?: boolean;
  /** Where the push keys are kept for polling while locked; null: no secure storage. */
  pushKeyStore?: string | null;
  /** otpauth:// URIs put in the vault at start. */
  accounts?: string[];
  /** What successive scan_image/scan_camera calls decode, in order; the last one repeats. */
  scans?: ScanScript[];
  settings?: Partial<Settings>;
  language?: Settings["language"];
  /** Phones: false makes the barcode-scanner plugin report the camera permission as denied. */
  camera?: boolean;
  /**
   * What the OS allows per permission at start (default: "prompt"; desktop notifications
   * "granted", as the plugin reports there), and what its prompt answers (default "granted").
   */
  permissions?: Partial<Record<Permission, PermissionState>>;
  promptAnswers?: Partial<Record<Permission, PermissionState>>;
  /** Push accounts (docs/ipc-push.md); serial is required, the rest has defaults. */
  pushAccounts?: (Partial<PushAccountView> & { serial: string })[];
  /** Push challenges: stored ones are in push_pending already, the others arrive with push_poll. */
  pushChallenges?: FakeChallenge[];
  /** The first n push_answer calls fail with Network (the server cannot be reached). */
  pushNetworkFailures?: number;
  /**
   * Collapse the pending requests as the shell does (src-tauri/push/collapse.rs): one view per
   * account's requests that came within 60 s of the one before, the newest, with the count.
   */
  collapsePush?: boolean;
  /**
   * What the save dialog (export_file) answers: a folder the file goes into (default
   * /home/me/Documents), or null: the person cancels.
   */
  saveFolder?: string | null;
  /** What the folder dialog (backup_folder_choose) answers; null: cancelled. */
  pickFolder?: string | null;
  /** The backup status Rust keeps in settings.json (the last backup, its drill, the changes). */
  backup?: Partial<BackupStatus>;
  /** The restore drill of the next backup finds it damaged (a disk that alters what it stores). */
  drillFails?: boolean;
  /** What the folder dialog of sync_folder_choose answers (default /home/me/Sync); null: cancelled. */
  syncFolder?: string | null;
  /**
   * The sync folder holds a sync set of other devices already (joining needs its passphrase);
   * `accounts` arrive with the first sync, `problems` are files every sync leaves out.
   */
  syncSet?: { passphrase: string; devices?: number; accounts?: string[]; problems?: SyncProblem[] };
  /** This device syncs already (through syncFolder, with syncSet). */
  syncOn?: boolean;
  /** The WebDAV server accepts only this password (sync_webdav_choose); any when absent. */
  webdavPassword?: string;
  /**
   * The organization's privacyIDEA server behind a `pia://container/` QR code (docs/containers.md):
   * `accounts` arrive with the first sync, `later` with the next one.
   */
  container?: FakeContainer;
}
export interface FakeContainer {
  serial: string; issuer: string; host?: string; passphrasePrompt?: string | null; passphrase?: string;
  accounts: string[]; later?: string[]; policies?: Partial<ContainerPolicies>;
  /**
   * The policy initially_add_tokens_to_container: the first sync takes this device's offered
   * accounts whose names are in `knows` (the server issued them).
   */
  initialTransfer?: boolean; knows?: string[];
}
/** A challenge as the fake's server holds it: `correct` is the number shown on the sign-in page. */
export interface FakeChallenge {
  nonce: string; serial?: string; title?: string; question?: string; options?: string[] | null;
  correct?: string; displayCode?: string | null; declineReasons?: boolean; ageSecs?: number; count?: number;
  requiresUnlock?: boolean; stored?: boolean; lifeSecs?: number;
}
export type ScanScript =
  | { uri: string }
  | { migration: { uris: string[]; batchId: number; batchIndex: number; batchSize: number } }
  | { push: string; warnings?: PushEnrolWarning[]; host?: string; delivery?: PushDelivery }
  | { container: true };

interface Entry { view: AccountView; secret: Uint8Array }

const fail = (kind: ErrorKind, message: string): never => {
  throw { kind, message } satisfies AppError;
};

// ---- Base32 and OTP (RFC 4648, RFC 4226, RFC 6238)
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
export function base32Decode(text: string): Uint8Array | null {
  const s = text.toUpperCase().replace(/[\s=-]/g, "");
  if (!s || /[^A-Z2-7]/.test(s)) return null;
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of s) {
    value = (value << 5) | B32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

async function hotp(secret: Uint8Array, counter: number, alg: string, digits: number, steam: boolean): Promise<string> {
  const hash = alg === "SHA256" ? "SHA-256" : alg === "SHA512" ? "SHA-512" : "SHA-1";
  const key = await crypto.subtle.importKey("raw", secret as BufferSource, { name: "HMAC", hash }, false, ["sign"]);
  const msg = new ArrayBuffer(8);
  const dv = new DataView(msg);
  dv.setUint32(0, Math.floor(counter / 2 ** 32));
  dv.setUint32(4, counter >>> 0);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, msg));
  const off = mac[mac.length - 1] & 0x0f;
  let bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  if (steam) {
    const alphabet = "23456789BCDFGHJKMNPQRTVWXY";
    let out = "";
    for (let i = 0; i < 5; i++) {
      out += alphabet[bin % alphabet.length];
      bin = Math.floor(bin / alphabet.length);
    }
    return out;
  }
  return String(bin % 10 ** digits).padStart(digits, "0");
}

// ---- URIs
function parseUri(uri: string): { manual: ManualAccount; secret: Uint8Array } {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return fail("InvalidInput", "not a URI");
  }
  if (u.protocol !== "otpauth:") fail("InvalidInput", `unsupported scheme ${u.protocol}`);
  const kind = u.host === "hotp" ? "hotp" : u.host === "totp" ? "totp" : fail("InvalidInput", "unknown OTP type");
  const label = decodeURIComponent(u.pathname.replace(/^\//, ""));
  const [labelIssuer, labelName] = label.includes(":") ? label.split(/:(.*)/s) : ["", label];
  const secretText = u.searchParams.get("secret") ?? "";
  const secret = base32Decode(secretText) ?? fail("InvalidInput", "secret is not valid Base32");
  if (secret.length < 10) fail("InvalidInput", "secret is shorter than 80 bits");
  const issuer = u.searchParams.get("issuer") ?? labelIssuer;
  const steam = issuer.toLowerCase() === "steam" && u.searchParams.get("encoder") === "steam";
  const alg = (u.searchParams.get("algorithm") ?? "SHA1").toUpperCase() as ManualAccount["algorithm"];
  return {
    secret,
    manual: {
      issuer, name: labelName.trim(), secret: "", kind: steam ? "steam" : kind, algorithm: alg,
      digits: steam ? 5 : Number(u.searchParams.get("digits") ?? 6), period: Number(u.searchParams.get("period") ?? 30),
      counter: Number(u.searchParams.get("counter") ?? 0),
    },
  };
}

// A deterministic picture standing in for the real QR SVG (the fake does not encode QR codes).
function fakeQrSvg(seed: string): string {
  let h = 2166136261;
  let cells = "";
  for (let y = 0; y < 21; y++)
    for (let x = 0; x < 21; x++) {
      h = Math.imul(h ^ (seed.charCodeAt((x + y * 21) % seed.length) + x * 31 + y), 16777619);
      const finder = (x < 7 && y < 7) || (x > 13 && y < 7) || (x < 7 && y > 13);
      const on = finder ? (Math.max(Math.abs(x % 14 - 3), Math.abs(y % 14 - 3)) !== 2) : (h >>> 28) & 1;
      if (on) cells += `<rect x="${x}" y="${y}" width="1" height="1"/>`;
    }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 25 25"><rect x="-2" y="-2" width="25" height="25" fill="#fff"/><g fill="#000">${cells}</g></svg>`;
}

export function installFake(): void {
  const cfg: FakeConfig = (globalThis as { __TWOFOLD_FAKE_CONFIG__?: FakeConfig }).__TWOFOLD_FAKE_CONFIG__ ?? {};
  const state = {
    platform: cfg.platform ?? "desktop",
    firstRunDone: cfg.firstRunDone ?? false,
    password: cfg.vaultPassword ?? null as string | null,
    unlocked: cfg.unlocked ?? false,
    entries: [] as Entry[],
    /** docs/vault.md "Recently removed": what left the vault, newest last, with who removed it. */
    removed: [] as { entry: Entry; removedAt: number; by: RemovedByKind; byId: string | null }[],
    settings: { ...DEFAULT_SETTINGS, language: cfg.language ?? "en", ...cfg.settings } as Settings,
    backup: { lastOkAt: null, lastError: null, lastPath: null, check: null, changesSinceBackup: 0, ...cfg.backup } as BackupStatus,
    drillFails: cfg.drillFails ?? false,
    scans: [...(cfg.scans ?? [{ uri: "otpauth://totp/Example:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example" }])],
    migrations: new Map<number, Set<number>>(),
    calls: [] as string[],
    exports: [] as { format: string; path: string }[],
    seq: 0,
    pushAccounts: (cfg.pushAccounts ?? []).map((a): PushAccountView => ({
      issuer: "privacyIDEA", label: "alice", url: "https://pi.example.com/ttype/push", requiresUnlock: false,
      enrolledAt: 1_760_000_000, mutedUntil: null, insecureTls: false, container: null, managedBy: null, deletable: true, ...a,
    })),
    /** Challenges on the server side (not yet polled) and stored in the vault (polled). */
    serverChallenges: [] as { view: PushChallengeView; correct: string | null; displayCode: string | null }[],
    storedNonces: new Set<string>(),
    answered: new Set<string>(),
    activity: [] as ActivityView[],
    /** Set when the password is entered (create, unlock, change): device authentication and the
     * re-authentication before a QR code or a plain export (within 60 s, as in Rust). */
    authAt: 0,
    saveFolder: cfg.saveFolder === undefined ? "/home/me/Documents" : cfg.saveFolder,
    pickFolder: cfg.pickFolder === undefined ? "/home/me/backups" : cfg.pickFolder,
    /** The code Twofold put on the clipboard (cleared after its time, on lock, if still there). */
    copied: null as string | null,
    /** The headers of the call being handled (raw-body calls carry their arguments there). */
    headers: {} as Record<string, string>,
    networkFailures: cfg.pushNetworkFailures ?? 0,
    /** docs/ipc-push.md: the pipush QR code read and shown for confirmation, not sent. */
    enrolPreview: null as { id: string; serial: string } | null,
    /** Push enrolments sent to the server (only push_enrol_confirm sends one). */
    enrolmentsSent: [] as string[],
    pollStatus: { at: 0, failures: [], clockOff: false } as PushPollStatus,
    syncFolder: cfg.syncFolder === undefined ? "/home/me/Sync" : cfg.syncFolder,
    sync: {
      state: cfg.syncOn ? "on" : "off", target: cfg.syncOn ? { kind: "folder", place: cfg.syncFolder ?? "/home/me/Sync", user: null } : null,
      creating: false, running: false, lastSyncAt: cfg.syncOn ? nowSecsAtStart() - 300 : null, lastAttemptAt: null,
      devices: cfg.syncOn ? cfg.syncSet?.devices ?? 1 : 0, lastChanged: 0, lastRemoved: 0, manyRemoved: false, problems: cfg.syncOn ? cfg.syncSet?.problems ?? [] : [],
      lastError: null,
    } as SyncStatus,
    /** docs/containers.md: the container QR code read and shown for confirmation, not sent. */
    containerPreview: null as string | null,
    containers: [] as ContainerView[],
    /** Container registrations sent to the server (only container_register sends one). */
    containerRegistrations: [] as string[],
    /** The account ids each registration's first sync offered by their codes (initial transfer). */
    containerOffers: [] as string[][],
    /** Rollovers in place sent to the server (container_rollover). */
    containerRollovers: [] as string[],
    /** Sync passphrases tried with sync_setup (the shell wipes them; the test checks what was sent). */
    syncPassphrases: [] as string[],
    /** The sync set's devices (sync_devices), this one first. */
    syncDevices: [
      { id: "a1".repeat(16), name: "Anna's laptop", lastSync: nowSecsAtStart() - 300, this: true },
      ...Array.from({ length: cfg.syncSet?.devices ?? 1 }, (_, i) => ({
        id: `b${i}`.repeat(16), name: ["Bertil's phone", "Cecilia's tablet", "Work PC"][i % 3], lastSync: nowSecsAtStart() - 3600 * (i + 1), this: false,
      })),
    ] as SyncDevice[],
    /** After a re-key elsewhere: the new passphrase sync_rejoin takes. */
    syncNewPassphrase: null as string | null,
    /** Re-keys made with sync_remove_device: [removed id, new passphrase]. */
    syncRekeys: [] as [string, string][],
    permissions: {
      camera: cfg.camera === false ? "denied" : "prompt",
      notifications: (cfg.platform ?? "desktop") === "desktop" ? "granted" : "prompt",
      location: "prompt",
      ...cfg.permissions,
    } as Record<Permission, PermissionState>,
    /** The permissions whose OS prompt was shown, in order. */
    prompted: [] as Permission[],
    locale: "en" as UiLocale,
    /** Notification actions Rust was told of. */
    notificationActions: [] as { action: string; id: number }[],
  };
  function nowSecsAtStart() {
    return Math.floor(Date.now() / 1000);
  }
  const PLUGIN_STATE: Record<PermissionState, string> = {
    granted: "granted", denied: "denied", prompt: "prompt", promptWithRationale: "prompt-with-rationale",
  };
  /** The OS prompt: shown only while the OS may show one; the user's answer from the config. */
  function prompt(p: Permission): PermissionState {
    const now = state.permissions[p];
    if (now === "granted" || now === "denied") return now;
    state.prompted.push(p);
    return (state.permissions[p] = cfg.promptAnswers?.[p] ?? "granted");
  }
  /** What Rust checks itself (docs/ipc.md): desktop notifications; phones notifications, location. */
  const rustPermissions = (): Permission[] => (state.platform === "desktop" ? ["notifications"] : ["notifications", "location"]);
  const nowSecs = () => Math.floor(Date.now() / 1000);
  function addChallenge(c: FakeChallenge) {
    const acc = state.pushAccounts.find((a) => a.serial === (c.serial ?? state.pushAccounts[0]?.serial));
    const receivedAt = nowSecs() - (c.ageSecs ?? 0);
    state.serverChallenges.push({
      view: {
        nonce: c.nonce, serial: acc?.serial ?? "PIPU0001", issuer: acc?.issuer ?? "privacyIDEA", label: acc?.label ?? "alice",
        title: c.title ?? "privacyIDEA", question: c.question ?? "Sign-in to Firefox from 192.0.2.10 at 14:02",
        options: c.options ?? null, declineReasons: c.declineReasons ?? true, receivedAt,
        expiresAt: receivedAt + (c.lifeSecs ?? 120), count: c.count ?? 1, requiresUnlock: c.requiresUnlock ?? acc?.requiresUnlock ?? false,
      },
      correct: c.correct ?? null,
      displayCode: c.displayCode ?? null,
    });
    if (c.stored) state.storedNonces.add(c.nonce);
  }
  for (const c of cfg.pushChallenges ?? []) addChallenge(c);
  function pendingPush(): PushChallengeView[] {
    const now = nowSecs();
    return state.serverChallenges
      .map((c) => c.view)
      .filter((v) => state.storedNonces.has(v.nonce) && !state.answered.has(v.nonce) && v.expiresAt > now)
      .filter((v) => {
        const muted = state.pushAccounts.find((a) => a.serial === v.serial)?.mutedUntil;
        return !muted || muted <= now;
      })
      .reduce(collapse, [] as PushChallengeView[]);
  }
  /** With collapsePush, a request joins the view before it of the same account (within 60 s). */
  function collapse(out: PushChallengeView[], v: PushChallengeView): PushChallengeView[] {
    const last = [...out].reverse().find((x) => x.serial === v.serial);
    if (cfg.collapsePush && last && Math.abs(v.receivedAt - last.receivedAt) <= 60) {
      const older = v.receivedAt < last.receivedAt;
      out[out.indexOf(last)] = { ...(older ? last : v), count: last.count + 1 };
    } else out.push(v);
    return out;
  }

  function addEntry(m: ManualAccount, secret: Uint8Array, result: AccountsAdded) {
    const dup = state.entries.find(
      (e) => e.view.issuer === m.issuer && e.view.name === m.name && e.secret.join() === secret.join(),
    );
    if (dup) return void result.duplicates.push(m.issuer ? `${m.issuer} (${m.name})` : m.name);
    const view: AccountView = {
      id: `acc-${++state.seq}`, issuer: m.issuer, name: m.name, kind: m.kind, algorithm: m.algorithm,
      digits: m.kind === "steam" ? 5 : m.digits, period: m.period || 30, counter: m.kind === "hotp" ? m.counter : null,
      favorite: false, groups: [], note: "", order: state.seq, createdAt: Math.floor(Date.now() / 1000), usedAt: null,
      container: null, managedBy: null, deletable: true,
    };
    state.entries.push({ view, secret });
    state.backup.changesSinceBackup += 1;
    result.added.push(view);
  }
  const emptyResult = (): AccountsAdded => ({ kind: "added", added: [], duplicates: [], skipped: [], migration: null });
  function addUri(uri: string): AccountsAdded {
    const r = emptyResult();
    const { manual, secret } = parseUri(uri);
    addEntry(manual, secret, r);
    return r;
  }
  for (const uri of cfg.accounts ?? []) addUri(uri);

  function list(): AccountView[] {
    return state.entries.map((e) => e.view).sort((a, b) => Number(b.favorite) - Number(a.favorite) || a.order - b.order);
  }
  const find = (id: string): Entry => state.entries.find((e) => e.view.id === id) ?? fail("NotFound", `no account ${id}`);
  const needUnlocked = () => {
    if (!state.password) fail("NoVault", "no vault");
    if (!state.unlocked) fail("Locked", "the vault is locked");
  };

  async function codeOf(e: Entry, now: number): Promise<CodeView> {
    const v = e.view;
    const steam = v.kind === "steam";
    if (v.kind === "hotp") {
      const code = await hotp(e.secret, v.counter ?? 0, v.algorithm, v.digits, false);
      return { id: v.id, code, nextCode: null, period: 0, validFromMs: 0, validUntilMs: 0 };
    }
    const counter = Math.floor(now / 1000 / v.period);
    return {
      id: v.id,
      code: await hotp(e.secret, counter, v.algorithm, v.digits, steam),
      nextCode: await hotp(e.secret, counter + 1, v.algorithm, v.digits, steam),
      period: v.period,
      validFromMs: counter * v.period * 1000,
      validUntilMs: (counter + 1) * v.period * 1000,
    };
  }

  /** A container sync: the server's accounts are added (tagged), the ones it dropped removed. */
  function containerSync(uris: string[]): ContainerSyncView {
    const c = state.containers[0];
    const r = emptyResult();
    const names = uris.map((u) => parseUri(u).manual.name);
    const removed = state.entries.filter((e) => e.view.container === c.serial && !names.includes(e.view.name));
    state.entries = state.entries.filter((e) => !removed.includes(e));
    for (const uri of uris) {
      const { manual, secret } = parseUri(uri);
      if (state.entries.some((e) => e.view.container === c.serial && e.view.name === manual.name)) continue;
      addEntry(manual, secret, r);
    }
    for (const v of r.added) Object.assign(v, { container: c.serial, managedBy: c.issuer, deletable: c.policies.deleteTokens });
    c.tokens = state.entries.filter((e) => e.view.container === c.serial)
      .map((e) => ({ serial: e.view.name, tokentype: e.view.kind, account: e.view.id }));
    c.lastSync = nowSecs();
    return { serial: c.serial, added: r.added.map((v) => v.name), updated: [], removed: removed.map((e) => e.view.name), joined: [], skipped: [], error: null };
  }

  const nextScript = (): ScanScript => (state.scans.length > 1 ? state.scans.shift()! : state.scans[0]);
  // What the camera "sees": the text of the next scripted QR code. Migration and push scripts
  // become stand-in URIs that add_uri below resolves back to their script.
  const cameraStash: ScanScript[] = [];
  function cameraText(): string {
    const script = nextScript();
    if ("uri" in script) return script.uri;
    if ("container" in script) return "pia://container/FAKE?issuer=fake";
    cameraStash.push(script);
    return "push" in script ? `otpauth://pipush/fake?stash=${cameraStash.length - 1}` : `otpauth-migration://offline?stash=${cameraStash.length - 1}`;
  }
  function addText(text: string): AddResult {
    if (/^pia:\/\/container\//i.test(text)) return runScript({ container: true });
    const stash = /[?&]stash=(\d+)/.exec(text);
    if (stash) return runScript(cameraStash[Number(stash[1])]);
    return addUri(text);
  }

  function scan(bytes: Uint8Array): AddResult {
    if (!(bytes instanceof Uint8Array)) fail("InvalidInput", "send the bytes as the raw body of the call");
    const png = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
    const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
    if (!png && !jpeg) fail("InvalidInput", "not a PNG or JPEG image");
    return runScript(nextScript());
  }
  function runScript(script: ScanScript): AddResult {
    if ("uri" in script) return addUri(script.uri);
    if ("container" in script) {
      const c = cfg.container ?? fail("InvalidInput", "no container server is configured");
      const host = c.host ?? "pi.example.edu";
      const preview: ContainerPreview = {
        id: String(++state.seq), serial: c.serial, issuer: c.issuer, host, url: `https://${host}/`,
        passphrasePrompt: c.passphrasePrompt ?? null, expiresAt: nowSecs() + 600, warnings: [],
      };
      state.containerPreview = preview.id;
      return { kind: "containerPreview", preview };
    }
    if ("push" in script) {
      // docs/ipc-push.md: a pipush QR is read for the confirmation screen; nothing is sent.
      const host = script.host ?? "pi.example.com";
      const preview: PushEnrolPreview = {
        id: String(++state.seq), host, url: `https://${host}/ttype/push`, issuer: "privacyIDEA", label: "alice",
        serial: script.push, requiresUnlock: false, expiresAt: nowSecs() + 600, warnings: script.warnings ?? ["pollOnly"],
        delivery: script.delivery ?? "whileOpen",
      };
      state.enrolPreview = { id: preview.id, serial: script.push };
      return { kind: "pushPreview", preview };
    }
    const m = script.migration;
    const r = emptyResult();
    for (const uri of m.uris) {
      try {
        const { manual, secret } = parseUri(uri);
        addEntry(manual, secret, r);
      } catch (e) {
        r.skipped.push({ name: uri.split("?")[0].replace(/^otpauth:\/\/\w+\//, ""), reason: (e as AppError).message });
      }
    }
    const got = state.migrations.get(m.batchId) ?? new Set<number>();
    got.add(m.batchIndex);
    state.migrations.set(m.batchId, got);
    const received = [...got].sort((a, b) => a - b);
    const missing = [...Array(m.batchSize).keys()].filter((i) => !got.has(i));
    r.migration = { batchId: m.batchId, batchSize: m.batchSize, received, missing } satisfies MigrationProgress;
    return r;
  }

  const formats: ImportFormat[] = [
    { name: "aegis", label: "Aegis (.json)", encrypted: true },
    { name: "otpauth-list", label: "otpauth:// list (.txt)", encrypted: false },
    { name: "2fas", label: "2FAS (.2fas)", encrypted: true },
  ];
  function importFile(data: Uint8Array, format: string | null, password: string | null): ImportReportView {
    if (!(data instanceof Uint8Array)) fail("InvalidInput", "send the bytes as the raw body of the call");
    const text = new TextDecoder().decode(data);
    if (text.startsWith("{") && text.includes('"encrypted"')) {
      if (!password) fail("PasswordRequired", "the file is encrypted");
      if (password !== "export-pass") fail("WrongPassword", "the password does not open the file");
      const uris = (JSON.parse(text) as { uris: string[] }).uris;
      return importUris(uris);
    }
    if (format === "otpauth-list" || text.trimStart().startsWith("otpauth")) {
      return importUris(text.split(/\r?\n/).filter((l) => l.trim()));
    }
    return fail("UnknownFormat", "the file was not recognised");
  }
  function importUris(uris: string[]): ImportReportView {
    const rep: ImportReportView = { added: 0, duplicates: [], skipped: [] };
    uris.forEach((uri, i) => {
      try {
        const r = addUri(uri.trim());
        rep.added += r.added.length;
        rep.duplicates.push(...r.duplicates);
      } catch (e) {
        rep.skipped.push({ name: `line ${i + 1}`, reason: (e as AppError).message });
      }
    });
    return rep;
  }

  type Args = Record<string, unknown>;
  const header = (name: string): string | null => {
    const v = state.headers[name];
    return v === undefined ? null : decodeURIComponent(v);
  };
  const needRecentPassword = () => {
    if (Date.now() - state.authAt > 60_000) fail("AuthRequired", "enter your password again first (it counts for 60 seconds)");
  };
  const clearDelay = () => (globalThis as { __TWOFOLD_CLIPBOARD_CLEAR_MS__?: number }).__TWOFOLD_CLIPBOARD_CLEAR_MS__ ?? 30_000;
  async function clearCopied(which: string | null): Promise<boolean> {
    if (state.copied === null || (which !== null && which !== state.copied)) return false;
    const copied = state.copied;
    state.copied = null;
    const now = await navigator.clipboard.readText().catch(() => copied);
    if (now !== copied) return false;
    await navigator.clipboard.writeText("").catch(() => undefined);
    return true;
  }
  function lock(reason: "user" | "idle") {
    state.unlocked = false;
    void clearCopied(null).then(() => emit("vault-locked", { reason }));
  }
  const pushKeyStore = (): string | null =>
    cfg.pushKeyStore !== undefined ? cfg.pushKeyStore
      : state.platform === "desktop" ? "Secret Service" : state.platform === "android" ? "Android Keystore" : "Keychain";
  const handlers: Record<string, (a: Args) => unknown> = {
    app_status: (): AppStatus => ({
      vaultExists: state.password !== null, unlocked: state.unlocked, platform: state.platform,
      firstRunDone: state.firstRunDone, biometricsAvailable: cfg.biometricsAvailable ?? state.platform !== "desktop",
      biometricUnlock: state.settings.biometrics,
      pushKeyStore: pushKeyStore(), pushKeyStoreMissing: pushKeyStore() ? null : "no Secret Service answers",
      version: "0.1.0-fake",
    }),
    first_run_accept: () => void (state.firstRunDone = true),
    vault_create: (a) => {
      if (state.password) fail("VaultExists", "a vault exists");
      const pw = String(a.password ?? "");
      if (!pw) fail("InvalidInput", "empty password");
      state.password = pw;
      state.unlocked = true;
      state.authAt = Date.now();
    },
    vault_unlock: (a) => {
      if (!state.password) fail("NoVault", "no vault");
      if (a.password !== state.password) fail("WrongPassword", "wrong password");
      state.unlocked = true;
      state.authAt = Date.now();
    },
    vault_unlock_biometric: () => {
      if (state.platform === "desktop") fail("Unsupported", "no biometrics on desktop");
      if (!state.settings.biometrics) fail("Unsupported", "biometrics not enabled");
      if (cfg.biometricsChanged) {
        // The key is gone: the shell turns biometric unlock off (docs/vault.md, device slot).
        state.settings = { ...state.settings, biometrics: false };
        fail("AuthRequired", "the biometrics on this device changed, so biometric unlock was turned off");
      }
      state.unlocked = true;
    },
    vault_lock: () => lock("user"),
    vault_change_password: (a) => {
      needUnlocked();
      if (a.current !== state.password) fail("WrongPassword", "wrong password");
      state.password = String(a.next);
      state.authAt = Date.now();
    },
    accounts_list: () => (needUnlocked(), list()),
    codes_now: async () => {
      needUnlocked();
      const now = Date.now();
      return Promise.all(list().map((v) => codeOf(find(v.id), now)));
    },
    hotp_next: async (a) => {
      needUnlocked();
      const e = find(String(a.id));
      if (e.view.kind !== "hotp") fail("InvalidInput", "not a HOTP account");
      e.view = { ...e.view, counter: (e.view.counter ?? 0) + 1 };
      return codeOf(e, Date.now());
    },
    add_uri: (a) => (needUnlocked(), addText(String(a.uri))),
    add_manual: (a) => {
      needUnlocked();
      const m = a.account as ManualAccount;
      if (!m.name && !m.issuer) fail("InvalidInput", "name or issuer is required");
      const secret = base32Decode(m.secret) ?? fail("InvalidInput", "secret is not valid Base32");
      if (secret.length < 10) fail("InvalidInput", "secret is shorter than 80 bits");
      const r = emptyResult();
      addEntry({ ...m, secret: "" }, secret, r);
      return r;
    },
    scan_image: (a) => (needUnlocked(), scan(a as unknown as Uint8Array)),
    // Always Unsupported (docs/ipc.md): phones scan with the barcode-scanner plugin below.
    scan_camera: () => fail("Unsupported", "scanning with the camera runs in the UI (barcode-scanner plugin)"),
    // docs/ipc-push.md: desktop has none (never a zeroed position); phones a coarse fix.
    location_current: (): LocationView => {
      if (state.platform === "desktop") fail("LocationUnavailable" as ErrorKind, "no location on desktop");
      return {
        latitude: 59.3293, longitude: 18.0686, accuracyM: 1000,
        place: { name: "Stockholm", region: "Stockholm", country: "SE", distanceKm: 0.4 },
      };
    },
    push_accounts: () => (needUnlocked(), state.pushAccounts),
    push_pending: () => (needUnlocked(), pendingPush()),
    push_poll: () => {
      needUnlocked();
      for (const c of state.serverChallenges) state.storedNonces.add(c.view.nonce);
      return pendingPush();
    },
    push_answer: (a) => {
      needUnlocked();
      if ((state.networkFailures ?? 0) > 0) {
        state.networkFailures--;
        fail("Network" as ErrorKind, "cannot reach https://pi.example.com: connection refused");
      }
      const nonce = String(a.nonce);
      const c = state.serverChallenges.find((x) => x.view.nonce === nonce && state.storedNonces.has(nonce))
        ?? fail("NotFound", `no challenge ${nonce}`);
      if (state.answered.has(nonce)) fail("AlreadyAnswered" as ErrorKind, "this nonce was answered before");
      if (c.view.expiresAt <= nowSecs()) fail("Expired" as ErrorKind, "the sign-in request is older than 2 minutes");
      const decision = a.decision as PushDecision;
      const answer = (a.answer as string | null) ?? null;
      const reason = (a.reason as DeclineReason | null) ?? null;
      if (decision !== "approve" && decision !== "deny") fail("InvalidInput", "decision");
      if (reason && (decision !== "deny" || !c.view.declineReasons)) fail("InvalidInput", "no decline reasons for this challenge");
      if (decision === "approve" && c.view.requiresUnlock && Date.now() - state.authAt > 60_000)
        fail("AuthRequired" as ErrorKind, "approving needs device authentication");
      if (decision === "approve" && c.view.options && !c.view.options.includes(answer ?? ""))
        fail("InvalidInput", "the answer is not one of the options");
      const accepted = decision === "deny" || !c.correct || answer === c.correct;
      // A wrong number: the server says false and keeps the challenge open.
      const wrongNumber = decision === "approve" && c.view.options !== null && !accepted;
      if (!wrongNumber) state.answered.add(nonce);
      const v = c.view;
      state.activity.unshift({
        at: nowSecs(), serial: v.serial, issuer: v.issuer, label: v.label, title: v.title, question: v.question,
        decision, answer, reason, accepted, location: (a.location as LocationView | null) ?? null,
      });
      return { accepted, displayCode: decision === "approve" && accepted ? c.displayCode : null };
    },
    push_mute: (a) => {
      needUnlocked();
      const acc = state.pushAccounts.find((x) => x.serial === a.serial) ?? fail("NotFound", "no such push account");
      acc.mutedUntil = nowSecs() + Number(a.minutes) * 60;
    },
    push_activity: () => (needUnlocked(), state.activity),
    push_enrol_confirm: (a) => {
      needUnlocked();
      const p = state.enrolPreview;
      if (!p || p.id !== String(a.id)) fail("NotFound", "no push enrolment waits for this confirmation");
      state.enrolPreview = null;
      state.enrolmentsSent.push(p!.serial);
      // The accounts list then shows it (push_accounts).
      state.pushAccounts = state.pushAccounts.filter((x) => x.serial !== p!.serial);
      state.pushAccounts.push({
        serial: p!.serial, issuer: "privacyIDEA", label: "alice", url: "https://pi.example.com/ttype/push",
        requiresUnlock: false, enrolledAt: nowSecs(), mutedUntil: null, insecureTls: false,
        container: null, managedBy: null, deletable: true,
      });
      return { kind: "pushEnrolled", serial: p!.serial } satisfies AddResult;
    },
    push_enrol_cancel: (a) => {
      if (state.enrolPreview?.id === String(a.id)) state.enrolPreview = null;
    },
    push_poll_status: () => state.pollStatus,
    // docs/ipc-push.md: a browser-driven app has no push distributor.
    push_registration: () => ({ state: "unsupported", distributor: null, endpointHost: null, problem: null }),
    push_enrol_preview: (a) => {
      const serial = /[?&]serial=([^&]+)/.exec(String(a.uri))?.[1] ?? fail("InvalidInput", "not a privacyIDEA push enrolment");
      const r = runScript({ push: serial });
      return r.kind === "pushPreview" ? r.preview : fail("Internal", "not a push preview");
    },
    container_preview: (a) => {
      if (!/^pia:\/\/container\//i.test(String(a.uri))) fail("InvalidInput", "not a privacyIDEA container registration URI");
      const r = runScript({ container: true });
      return r.kind === "containerPreview" ? r.preview : fail("Internal", "not a container preview");
    },
    container_cancel: (a) => {
      if (state.containerPreview === String(a.id)) state.containerPreview = null;
    },
    container_register: (a) => {
      needUnlocked();
      const c = cfg.container!;
      if (!c || state.containerPreview !== String(a.id)) fail("NotFound", "no container registration waits for this confirmation");
      if (c.passphrasePrompt && !a.passphrase) fail("PasswordRequired", `the server asks for a passphrase: ${c.passphrasePrompt}`);
      if (c.passphrase && a.passphrase !== c.passphrase) fail("Server", "ERR3002: wrong passphrase");
      state.containerPreview = null;
      state.containerRegistrations.push(c.serial);
      const p = { rollover: true, deleteTokens: false, unregister: true, ...c.policies };
      state.containers = [{
        serial: c.serial, issuer: c.issuer, serverUrl: `https://${c.host ?? "pi.example.edu"}/`, tokens: [], policies: p,
        registeredAt: nowSecs(), lastSync: null, lastError: null,
      }];
      const sync = containerSync(c.accounts);
      // The initial transfer: the ticked accounts are sent only when the server asks for them.
      const offered = c.initialTransfer ? ((a.offer as string[] | undefined) ?? []) : [];
      state.containerOffers.push(offered);
      for (const id of offered) {
        const e = state.entries.find((x) => x.view.id === id) ?? fail("NotFound", `no account with id ${id}`);
        if (!(c.knows ?? []).includes(e.view.name)) continue;
        Object.assign(e.view, { container: c.serial, managedBy: c.issuer, deletable: state.containers[0].policies.deleteTokens });
        state.containers[0].tokens.push({ serial: e.view.name, tokentype: e.view.kind, account: e.view.id });
        sync.updated.push(e.view.name);
        sync.joined.push(e.view.name);
      }
      return { container: state.containers[0], sync };
    },
    containers_list: () => (needUnlocked(), state.containers),
    container_sync: () => {
      needUnlocked();
      const c = cfg.container;
      if (!c || !state.containers.length) return [];
      return [containerSync([...c.accounts, ...(c.later ?? [])])];
    },
    container_rollover: (a) => {
      // In place: a new key here, and the server re-keys every token (new secrets, same ids).
      needUnlocked();
      const c = state.containers.find((x) => x.serial === a.serial) ?? fail("NotFound", "no such container");
      if (!c.policies.rollover) fail("Forbidden", "the server's policy container_client_rollover forbids this");
      const mine = state.entries.filter((e) => e.view.container === c.serial);
      for (const e of mine) e.secret = crypto.getRandomValues(new Uint8Array(20));
      state.containerRollovers.push(c.serial);
      c.lastSync = nowSecs();
      return { serial: c.serial, added: mine.map((e) => e.view.name), updated: [], removed: [], skipped: [], error: null };
    },
    container_transfer: (a) => {
      needUnlocked();
      needRecentPassword();
      const c = state.containers.find((x) => x.serial === a.serial) ?? fail("NotFound", "no such container");
      if (!c.policies.rollover) fail("Forbidden", "the server's policy container_client_rollover forbids this");
      const link = `pia://container/${c.serial}?issuer=${encodeURIComponent(c.issuer)}&ttl=10&nonce=fake&url=${encodeURIComponent(c.serverUrl)}`;
      return { link, qrSvg: fakeQrSvg(link) };
    },
    container_unregister: (a) => {
      needUnlocked();
      const c = state.containers.find((x) => x.serial === a.serial) ?? fail("NotFound", "no such container");
      if (!c.policies.unregister) fail("Forbidden", "the server's policy disable_client_container_unregister forbids this");
      const removed = state.entries.filter((e) => e.view.container === c.serial);
      state.entries = state.entries.filter((e) => e.view.container !== c.serial);
      state.containers = state.containers.filter((x) => x !== c);
      return removed.map((e) => e.view.name);
    },
    push_remove: (a) => {
      needUnlocked();
      const acc = state.pushAccounts.find((x) => x.serial === a.serial) ?? fail("NotFound", "no such push account");
      if (!acc.deletable) fail("Forbidden", `the push account is managed by ${acc.managedBy}; its server forbids deleting it`);
      state.pushAccounts = state.pushAccounts.filter((x) => x.serial !== a.serial);
    },
    // The barcode-scanner plugin (registered on phones only, like the real shell).
    "plugin:barcode-scanner|check_permissions": () => ({ camera: PLUGIN_STATE[state.permissions.camera] }),
    "plugin:barcode-scanner|request_permissions": () => ({ camera: PLUGIN_STATE[prompt("camera")] }),
    // The UI's listener for notification taps and buttons (phones).
    "plugin:notifications|registerListener": () => null,
    "plugin:notifications|remove_listener": () => null,
    permissions_status: () => rustPermissions().map((permission) => ({ permission, state: state.permissions[permission] })),
    permission_request: (a) => {
      const p = a.permission as Permission;
      if (!rustPermissions().includes(p)) fail("Unsupported", `${p}: not asked from Rust here`);
      return { permission: p, state: prompt(p) };
    },
    ui_locale_set: (a) => {
      if (a.locale !== "en" && a.locale !== "sv") fail("InvalidInput", "locale");
      state.locale = a.locale as UiLocale;
    },
    push_notification_action: (a) => {
      state.notificationActions.push({ action: String(a.action), id: Number(a.id) });
      return { outcome: "nothing" };
    },
    "plugin:barcode-scanner|scan": () => ({ content: cameraText(), format: "QR_CODE" }),
    account_update: (a) => {
      needUnlocked();
      const e = find(String(a.id));
      const p = a.patch as AccountPatch;
      if (p.name !== undefined && !p.name.trim() && !(p.issuer ?? e.view.issuer)) fail("InvalidInput", "name is required");
      e.view = { ...e.view, ...p };
      return e.view;
    },
    account_delete: (a) => {
      needUnlocked();
      const e = find(String(a.id));
      if (!e.view.deletable) fail("Forbidden", `the account is managed by ${e.view.managedBy}; its server forbids deleting it`);
      state.entries = state.entries.filter((x) => x !== e);
      state.removed = state.removed.filter((r) => r.entry.view.id !== e.view.id);
      state.removed.push({ entry: e, removedAt: nowSecs(), by: "thisDevice", byId: null });
    },
    removed_list: (): RemovedView[] => {
      needUnlocked();
      return state.removed
        .filter((r) => r.removedAt > nowSecs() - 30 * 86400)
        .map((r) => ({ id: r.entry.view.id, issuer: r.entry.view.issuer, name: r.entry.view.name, removedAt: r.removedAt, by: r.by, byId: r.byId }))
        .reverse();
    },
    account_restore: (a) => {
      needUnlocked();
      const id = String(a.id);
      if (state.entries.some((x) => x.view.id === id)) fail("InvalidInput", `account "${id}" is in the vault already`);
      const r = state.removed.find((x) => x.entry.view.id === id && x.removedAt > nowSecs() - 30 * 86400);
      if (!r) fail("NotFound", `no account with id "${id}"`);
      state.removed = state.removed.filter((x) => x !== r);
      state.entries.push(r!.entry);
      return r!.entry.view;
    },
    account_qr_svg: (a) => {
      needUnlocked();
      needRecentPassword();
      return fakeQrSvg(find(String(a.id)).view.id + "twofold");
    },
    code_copy: async (a) => {
      needUnlocked();
      const code = (await codeOf(find(String(a.id)), Date.now())).code;
      await navigator.clipboard.writeText(code);
      state.copied = code;
      setTimeout(async () => {
        if (await clearCopied(code)) void emit("clipboard-cleared", null);
      }, clearDelay());
    },
    import_formats: () => formats,
    import_file: (a) => (needUnlocked(), importFile(a as unknown as Uint8Array, header("format"), header("password"))),
    // The save dialog is Rust's: the fake answers with saveFolder (null: cancelled).
    export_file: (a) => {
      needUnlocked();
      if (a.format === "aegis") {
        if (!a.password) fail("InvalidInput", "an encrypted export needs a password for the file");
      } else needRecentPassword();
      if (state.saveFolder === null) return null;
      const path = `${state.saveFolder}/twofold-${a.format === "aegis" ? "aegis-encrypted" : a.format}.txt`;
      if (path.startsWith("/nonexistent/")) fail("Io", `cannot write ${path}: no such directory`);
      state.exports.push({ format: String(a.format), path });
      return path;
    },
    settings_get: () => state.settings,
    settings_set: (a) => {
      const s = { ...(a.settings as Settings) };
      if (s.lockTimeoutSecs > 86_400) fail("InvalidInput", "the lock timeout can be at most one day (86400 s)");
      if (s.biometrics && !(cfg.biometricsAvailable ?? state.platform !== "desktop")) fail("Unsupported", "no biometrics here");
      if (s.keepInTray && !state.settings.keepInTray && (state.platform !== "desktop" || cfg.tray === false))
        fail("Unsupported", "this desktop has no system tray library (libayatana-appindicator3)");
      needUnlocked();
      if (s.backupFolder !== null && s.backupFolder !== state.settings.backupFolder)
        fail("InvalidInput", "choose the backup folder in the folder dialog (Choose folder…)");
      return (state.settings = s);
    },
    // The folder dialog is Rust's: the fake answers with pickFolder (null: cancelled).
    backup_folder_choose: () => {
      needUnlocked();
      if (state.pickFolder !== null) state.settings = { ...state.settings, backupFolder: state.pickFolder };
      return state.settings;
    },
    backup_now: () => {
      needUnlocked();
      const folder = state.settings.backupFolder;
      if (!folder) fail("InvalidInput", "no backup folder chosen");
      if (folder!.includes("readonly")) {
        state.backup = { ...state.backup, lastError: `cannot write ${folder}: permission denied` };
        void emit("backup-failed", { message: state.backup.lastError });
      } else {
        // The restore drill: the backup read back and compared with the vault.
        const check = state.drillFails
          ? { accounts: 0, verified: false, missing: 0, different: 0, error: "its checksum does not match (the file was altered or damaged)" }
          : { accounts: state.entries.length, verified: true, missing: 0, different: 0, error: null };
        state.backup = {
          lastOkAt: Math.floor(Date.now() / 1000), lastError: null, lastPath: `${folder}/twofold-backup.json`, check,
          changesSinceBackup: check.verified ? 0 : state.backup.changesSinceBackup,
        };
      }
      return state.backup;
    },
    backup_status: () => state.backup,
    touch: () => undefined,
    // docs/ipc.md "Sync": the folder picker is Rust's (desktop: the folder dialog, a path;
    // Android: the storage-access-framework picker, shown as the provider's volume and path);
    // iOS has no folder target.
    passphrase_strength: (a) => {
      const score = passwordScore(String(a.passphrase ?? ""));
      return { score, acceptable: score >= MIN_SCORE };
    },
    sync_status: () => (needUnlocked(), state.sync),
    sync_folder_choose: () => {
      needUnlocked();
      needRecentPassword();
      if (state.platform === "ios") fail("Unsupported", "syncing through a folder is not available on this iPhone yet: sync through a WebDAV server instead");
      if (state.sync.state === "on") fail("InvalidInput", "sync is on already: turn it off before choosing another place");
      if (state.syncFolder === null) return state.sync;
      const place = state.platform === "android" ? "primary:Sync/Twofold" : state.syncFolder;
      state.sync = { ...state.sync, state: "needsPassphrase", target: { kind: "folder", place, user: null }, creating: !cfg.syncSet };
      return state.sync;
    },
    sync_webdav_choose: (a) => {
      needUnlocked();
      needRecentPassword();
      const url = String(a.url ?? "").trim();
      if (!url) fail("InvalidInput", "enter the WebDAV server's address");
      if (state.sync.state === "on") fail("InvalidInput", "sync is on already: turn it off before choosing another place");
      if (!/^https:\/\/[^/@]+/.test(url) && !/^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]/.test(url)) {
        fail("InvalidInput", `${url} is not a WebDAV folder Twofold can use: plain http only to this device`);
      }
      if (cfg.webdavPassword !== undefined && a.password !== cfg.webdavPassword) {
        fail("WrongPassword", `the WebDAV server refused the login for ${url} (HTTP 401): check the WebDAV user and password`);
      }
      const place = url.endsWith("/") ? url : `${url}/`;
      state.sync = { ...state.sync, state: "needsPassphrase", target: { kind: "webdav", place, user: String(a.user ?? "") || null }, creating: !cfg.syncSet };
      return state.sync;
    },
    sync_setup: (a) => {
      needUnlocked();
      needRecentPassword();
      if (state.sync.state !== "needsPassphrase") fail("InvalidInput", "choose a folder or a WebDAV server first");
      const pass = String(a.passphrase ?? "");
      state.syncPassphrases.push(pass);
      if (!pass) fail("InvalidInput", "the sync passphrase must not be empty");
      if (!cfg.syncSet && passwordScore(pass) < MIN_SCORE) fail("InvalidInput", "sync passphrase refused: the passphrase is too weak");
      if (cfg.syncSet && pass !== cfg.syncSet.passphrase) fail("WrongSyncPassphrase", "wrong sync passphrase");
      let changed = 0;
      for (const uri of cfg.syncSet?.accounts ?? []) changed += addUri(uri).added.length;
      state.sync = {
        ...state.sync, state: "on", creating: false, lastSyncAt: nowSecs(), lastAttemptAt: nowSecs(),
        devices: cfg.syncSet ? cfg.syncSet.devices ?? 1 : 0, lastChanged: changed, lastRemoved: 0, manyRemoved: false, problems: cfg.syncSet?.problems ?? [], lastError: null,
      };
      void emit("sync-status", state.sync);
      return state.sync;
    },
    sync_now: () => {
      needUnlocked();
      if (state.sync.state !== "on") fail("InvalidInput", "sync is off: choose a folder first");
      if (state.syncNewPassphrase !== null) fail("SyncNewPassphrase", "the sync set has a new passphrase (a device was removed from it): sync again with the new passphrase");
      state.sync = { ...state.sync, lastSyncAt: nowSecs(), lastAttemptAt: nowSecs(), lastChanged: 0, lastRemoved: 0, manyRemoved: false, lastError: null };
      void emit("sync-status", state.sync);
      return state.sync;
    },
    sync_devices: () => {
      needUnlocked();
      if (state.sync.state !== "on") fail("InvalidInput", "sync is off");
      return state.syncDevices;
    },
    sync_rename_device: (a) => {
      needUnlocked();
      const name = String(a.name ?? "").replace(/\p{Cc}/gu, "").trim().slice(0, 64);
      if (!name) fail("InvalidInput", "enter a name for this device");
      state.syncDevices = state.syncDevices.map((d) => (d.this ? { ...d, name } : d));
      return state.syncDevices;
    },
    sync_remove_device: (a) => {
      needUnlocked();
      needRecentPassword();
      const id = String(a.id ?? "");
      const pass = String(a.passphrase ?? "");
      if (passwordScore(pass) < MIN_SCORE) fail("InvalidInput", "sync passphrase refused: the passphrase is too weak");
      const device = state.syncDevices.find((d) => d.id === id && !d.this);
      if (!device) fail("InvalidInput", `cannot remove ${id}`);
      state.syncDevices = state.syncDevices.filter((d) => d.id !== id);
      state.syncRekeys.push([id, pass]);
      state.sync = { ...state.sync, lastSyncAt: nowSecs(), lastAttemptAt: nowSecs(), devices: state.syncDevices.length - 1, lastChanged: 0, lastError: null };
      void emit("sync-status", state.sync);
      return state.sync;
    },
    sync_rejoin: (a) => {
      needUnlocked();
      const pass = String(a.passphrase ?? "");
      if (!pass) fail("InvalidInput", "enter the sync set's new passphrase");
      if (pass !== state.syncNewPassphrase) fail("SyncNewPassphrase", "the sync set has a new passphrase (a device was removed from it): sync again with the new passphrase");
      state.syncNewPassphrase = null;
      state.sync = { ...state.sync, lastSyncAt: nowSecs(), lastAttemptAt: nowSecs(), lastChanged: 0, lastError: null };
      void emit("sync-status", state.sync);
      return state.sync;
    },
    sync_off: () => {
      needUnlocked();
      state.sync = {
        state: "off", target: null, creating: false, running: false, lastSyncAt: null, lastAttemptAt: null, devices: 0,
        lastChanged: 0, lastRemoved: 0, manyRemoved: false, problems: [], lastError: null,
      };
      return state.sync;
    },
  };

  mockIPC(
    async (cmd, args) => {
      state.calls.push(cmd);
      state.headers = pendingHeaders;
      pendingHeaders = {};
      const h = handlers[cmd];
      // An unregistered plugin (barcode-scanner on desktop) fails like Tauri: a plain string.
      if (cmd.startsWith("plugin:") && state.platform === "desktop") throw `plugin ${cmd.split("|")[0].slice(7)} not found`;
      if (!h) fail("Internal", `unknown command ${cmd}`);
      return h((args ?? {}) as Args);
    },
    { shouldMockEvents: true },
  );
  // mockIPC drops invoke's options: keep the headers of each call for its handler (the mock
  // calls the handler synchronously, before any other call can start).
  let pendingHeaders: Record<string, string> = {};
  const internals = (globalThis as { __TAURI_INTERNALS__?: { invoke: (c: string, a?: unknown, o?: { headers?: unknown }) => Promise<unknown> } }).__TAURI_INTERNALS__;
  if (internals) {
    const mocked = internals.invoke;
    internals.invoke = (cmd, args, options) => {
      const h = options?.headers;
      pendingHeaders = h instanceof Headers ? Object.fromEntries(h.entries()) : ((h as Record<string, string>) ?? {});
      return mocked(cmd, args, options);
    };
  }

  (globalThis as { __twofoldFake?: unknown }).__twofoldFake = {
    state,
    emit: (event: string, payload: unknown) => emit(event, payload),
    /** A challenge arrives at the server and the shell's poll finds it: push-challenges. */
    pushChallenge: (c: FakeChallenge) => {
      addChallenge({ ...c, stored: true });
      return emit("push-challenges", pendingPush());
    },
    /** Several challenges found by one poll: one push-challenges. */
    pushChallenges: (list: FakeChallenge[]) => {
      for (const c of list) addChallenge({ ...c, stored: true });
      return emit("push-challenges", pendingPush());
    },
    lockIdle: () => lock("idle"),
    /** Another device's account arrives with a background sync: sync-status with lastChanged. */
    syncArrives: (uri: string) => {
      const changed = addUri(uri).added.length;
      state.sync = { ...state.sync, lastSyncAt: nowSecs(), lastChanged: changed, lastRemoved: 0, manyRemoved: false, lastError: null };
      return emit("sync-status", state.sync);
    },
    /** Another device removed accounts: a background sync takes them out (docs/ipc.md, manyRemoved above 3). */
    syncRemoves: (issuers: string[], device: string) => {
      const gone = state.entries.filter((e) => issuers.includes(e.view.issuer));
      state.entries = state.entries.filter((e) => !gone.includes(e));
      for (const entry of gone) state.removed.push({ entry, removedAt: nowSecs(), by: "sync", byId: device });
      state.sync = {
        ...state.sync, lastSyncAt: nowSecs(), lastChanged: gone.length, lastRemoved: gone.length,
        manyRemoved: gone.length > 3, lastError: null,
      };
      return emit("sync-status", state.sync);
    },
    /** Another device removed one and re-keyed the set: the background sync asks for `passphrase`. */
    syncRekeyed: (passphrase: string) => {
      state.syncNewPassphrase = passphrase;
      state.sync = {
        ...state.sync, lastAttemptAt: nowSecs(), lastChanged: 0, lastRemoved: 0, manyRemoved: false,
        lastError: { kind: "SyncNewPassphrase", message: "the sync set has a new passphrase (a device was removed from it): sync again with the new passphrase; nothing was written and this device's accounts stay" },
      };
      return emit("sync-status", state.sync);
    },
    /** A background sync fails (the folder went away). */
    syncFails: (kind: ErrorKind, message: string) => {
      state.sync = { ...state.sync, lastAttemptAt: nowSecs(), lastChanged: 0, lastRemoved: 0, manyRemoved: false, lastError: { kind, message } };
      return emit("sync-status", state.sync);
    },
  };
}
