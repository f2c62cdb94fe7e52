import { ipc } from "./ipc";
import type { AddResult } from "./types";

/**
 * What a paste adds: a pasted screenshot (image bytes, decoded by the core like a scan) or a
 * pasted otpauth://, otpauth-migration://, steam:// or pia:// (privacyIDEA push or container)
 * link. Null when the paste is neither, so ordinary text pastes into fields are left alone.
 */
export function addFromPaste(e: ClipboardEvent): (() => Promise<AddResult>) | null {
  const data = e.clipboardData;
  if (!data) return null;
  for (const item of data.items) {
    if (item.kind === "file" && item.type.startsWith("image/")) {
      const file = item.getAsFile();
      if (!file) continue;
      return async () => ipc.scanImage(new Uint8Array(await file.arrayBuffer()));
    }
  }
  const text = data.getData("text/plain")?.trim() ?? "";
  if (/^(otpauth|otpauth-migration|steam|pia):\/\//i.test(text)) return () => ipc.addUri(text);
  return null;
}
