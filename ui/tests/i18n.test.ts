import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { en } from "../src/lib/i18n/en";
import { sv } from "../src/lib/i18n/sv";
import { format, resolveLocale, setLocale, t } from "../src/lib/i18n/index.svelte";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("message catalogues", () => {
  test("English and Swedish have the same keys", () => {
    expect(Object.keys(sv).sort()).toEqual(Object.keys(en).sort());
  });
  test("no empty messages", () => {
    for (const [k, v] of [...Object.entries(en), ...Object.entries(sv)]) expect(v.trim(), k).not.toBe("");
  });
  test("the same placeholders in both languages", () => {
    for (const k of Object.keys(en) as (keyof typeof en)[]) expect(placeholders(sv[k]), k).toEqual(placeholders(en[k]));
  });
  test("the organizations' guide words exist verbatim in English", () => {
    expect(en["privacy.accept"]).toBe("Accept");
    expect(en["setup.continue"]).toBe("Continue");
    expect(en["add.scan"]).toBe("Scan QR Code");
    expect(en["add.work"]).toBe("Work or school account");
    expect(en["add.manual"]).toBe("Enter code manually");
  });
  test("every error kind has a message in both languages", async () => {
    const { ERROR_KINDS } = await import("../src/lib/types");
    for (const k of ERROR_KINDS) {
      expect(en).toHaveProperty(`error.${k}`);
      expect(sv).toHaveProperty(`error.${k}`);
    }
  });
});

describe("what the app says is true (issue 9)", () => {
  test("the location is not sent with an answer: it stays on the device, in the encrypted log", () => {
    expect(en["push.locationWhy"]).toMatch(/^Your location is not sent with your answer: it stays on this device, in the encrypted activity log/);
    expect(sv["push.locationWhy"]).toMatch(/^Din plats skickas inte med svaret: den stannar på enheten, i den krypterade aktivitetsloggen/);
    for (const text of [...Object.values(en), ...Object.values(sv)]) {
      expect(text).not.toMatch(/location is sent|plats skickas med/i);
    }
  });
  test("changing the password says earlier automatic backups keep the old one", () => {
    expect(en["settings.passwordOldBackups"]).toMatch(/Earlier automatic backups keep the old password/);
    expect(sv["settings.passwordOldBackups"]).toMatch(/Tidigare automatiska säkerhetskopior behåller det gamla lösenordet/);
  });
  test("the password prompts before a QR code and a plain export say why, in both languages", () => {
    for (const key of ["reauth.qr", "reauth.export"] as const) {
      expect(en[key]).toMatch(/Enter your vault password/);
      expect(sv[key]).toMatch(/Ange valvets lösenord/);
    }
    expect(en["reauth.qr"]).toMatch(/secret/);
    expect(en["reauth.export"]).toMatch(/not encrypted/);
  });
});

describe("values generated from Rust", () => {
  test("the default settings and the error kinds come from the bindings", async () => {
    const { DEFAULT_SETTINGS, ERROR_KINDS } = await import("../src/bindings");
    expect(DEFAULT_SETTINGS).toEqual({ lockTimeoutSecs: 300, lockOnBackground: true, biometrics: false, pushWhileLocked: true, keepInTray: false, language: "system", theme: "system", backupFolder: null });
    expect(ERROR_KINDS).toContain("AuthRequired");
    expect(ERROR_KINDS).toContain("Network");
    expect(new Set(ERROR_KINDS).size).toBe(ERROR_KINDS.length);
  });
});

describe("t and locale", () => {
  test("format fills placeholders and leaves unknown ones", () => {
    expect(format("{k} of {n}", { k: 2, n: 3 })).toBe("2 of 3");
    expect(format("{x}", {})).toBe("{x}");
  });
  test("switches language", () => {
    setLocale("sv");
    expect(t("add.nextBatch", { k: 1, n: 2 })).toBe("Skanna nästa QR-kod (1 av 2)");
    setLocale("en");
    expect(t("add.nextBatch", { k: 1, n: 2 })).toBe("Scan the next QR code (1 of 2)");
  });
  test("system language", () => {
    expect(resolveLocale("system", ["sv-SE", "en-US"])).toBe("sv");
    expect(resolveLocale("system", ["de-DE", "en-GB"])).toBe("en");
    expect(resolveLocale("system", ["fi-FI"])).toBe("en");
    expect(resolveLocale("sv", ["en-US"])).toBe("sv");
  });
});

describe("the permission reasons are the platform's (issue 11)", () => {
  const root = new URL("../..", import.meta.url);
  const read = (p: string) => readFileSync(new URL(p, root), "utf8");
  const xml = (p: string) => Object.fromEntries(
    [...read(p).matchAll(/<string name="permission_(\w+)_reason">([^<]*)<\/string>/g)].map((m) => [m[1], m[2]]),
  );
  test("Android's strings.xml (English and Swedish) says what the permission step says", () => {
    for (const [cat, file] of [[en, "gen/android/app/src/main/res/values/strings.xml"], [sv, "gen/android/app/src/main/res/values-sv/strings.xml"]] as const) {
      expect(xml(file)).toEqual({
        camera: cat["perm.cameraWhy"], notifications: cat["perm.notificationsWhy"], location: cat["perm.locationWhy"],
      });
    }
  });
  test("iOS: Info.ios.plist (merged by the Tauri CLI) says the same, and nothing is left to edit by hand", () => {
    const plist = read("Info.ios.plist");
    expect(plist).toContain(`<key>NSCameraUsageDescription</key>\n\t<string>${en["perm.cameraWhy"]}</string>`);
    expect(plist).toContain(`<key>NSLocationWhenInUseUsageDescription</key>\n\t<string>${en["perm.locationWhy"]}</string>`);
    expect(plist).toMatch(/<key>UIBackgroundModes<\/key>\s*<array>\s*<string>remote-notification<\/string>/);
    expect(read("Entitlements.ios.plist")).toMatch(/<key>aps-environment<\/key>\s*<string>development<\/string>/);
    expect(read("src-tauri/build.rs")).toContain("tauri_plugin::mobile::update_entitlements");
    const readme = read("README.md");
    expect(readme).not.toMatch(/add the usage strings to|edit .*Info\.plist/i);
  });
  test("the location reason says truthfully that it stays on the device", () => {
    expect(en["perm.locationWhy"]).toMatch(/stays on this device, in the encrypted activity log, and is never sent/);
    expect(sv["perm.locationWhy"]).toMatch(/stannar på enheten, i den krypterade aktivitetsloggen, och skickas aldrig/);
  });
});
