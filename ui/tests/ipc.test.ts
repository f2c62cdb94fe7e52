// What the UI sends to Rust: bytes as raw bodies with headers, no path for exports, the copy
// through Rust.
import { beforeEach, describe, expect, test, vi } from "vitest";

const calls: { cmd: string; args: unknown; options: unknown }[] = [];
let answer: unknown = null;
vi.mock("@tauri-apps/api/core", () => ({
  invoke: async (cmd: string, args?: unknown, options?: unknown) => {
    calls.push({ cmd, args, options });
    if (answer instanceof Error) throw { kind: "AuthRequired", message: answer.message };
    return answer;
  },
}));
vi.mock("@tauri-apps/api/event", () => ({ listen: async () => () => undefined }));

const { ipc } = await import("../src/lib/ipc");

beforeEach(() => {
  calls.length = 0;
  answer = null;
});

describe("raw bodies", () => {
  test("a scanned image goes as its bytes, not a JSON array of numbers", async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    await ipc.scanImage(png);
    expect(calls[0].cmd).toBe("scan_image");
    expect(calls[0].args).toBe(png);
    expect(calls[0].args).toBeInstanceOf(Uint8Array);
  });
  test("an import file goes as its bytes; format and password as percent-encoded headers", async () => {
    const data = new TextEncoder().encode("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP");
    await ipc.importFile(data, "otpauth-list", "pässword: ✓");
    expect(calls[0].args).toBe(data);
    expect(calls[0].options).toEqual({ headers: { format: "otpauth-list", password: "p%C3%A4ssword%3A%20%E2%9C%93" } });
    await ipc.importFile(data, null, null);
    expect(calls[1].options).toEqual({ headers: {} });
  });
});

describe("the webview asks, Rust decides", () => {
  test("an export names no path; the path written comes back", async () => {
    answer = "/home/me/twofold-otpauth.txt";
    expect(await ipc.exportFile("otpauth-list", null)).toBe("/home/me/twofold-otpauth.txt");
    expect(calls[0]).toMatchObject({ cmd: "export_file", args: { format: "otpauth-list", password: null } });
    expect(Object.keys(calls[0].args as object)).not.toContain("path");
  });
  test("AuthRequired reaches the caller as such (the screens then ask for the password)", async () => {
    answer = new Error("enter your password again");
    await expect(ipc.accountQrSvg("a1")).rejects.toEqual({ kind: "AuthRequired", message: "enter your password again" });
  });
  test("the backup folder and the copy go through Rust", async () => {
    await ipc.backupFolderChoose();
    await ipc.codeCopy("a1");
    expect(calls.map((c) => c.cmd)).toEqual(["backup_folder_choose", "code_copy"]);
    expect(calls[0].args).toBeUndefined();
    expect(calls[1].args).toEqual({ id: "a1" });
  });
});
