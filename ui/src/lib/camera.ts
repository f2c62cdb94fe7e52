// Phones scan with the camera from the UI: the barcode-scanner plugin's Rust side exposes no
// scan call (docs/ipc.md, scan_camera), so the plugin's scan() runs here and only the decoded
// text goes to add_uri, which parses it in Rust. The text is not kept.
import { checkPermissions, Format, requestPermissions, scan } from "@tauri-apps/plugin-barcode-scanner";
import { ipc } from "./ipc";
import type { AddResult } from "./types";

/** The camera cannot be used (no permission, no camera, the plugin failed): offer the image chooser. */
export class CameraUnavailable extends Error {}

/** Scans one QR code and adds it; null when the user cancelled the scan. */
export async function scanWithCamera(): Promise<AddResult | null> {
  let permission: string;
  try {
    permission = await checkPermissions();
    if (permission !== "granted") permission = await requestPermissions();
  } catch (e) {
    throw new CameraUnavailable(`no camera: ${String(e)}`);
  }
  if (permission !== "granted") throw new CameraUnavailable("camera permission denied");
  let content: string;
  try {
    content = (await scan({ formats: [Format.QRCode] })).content;
  } catch (e) {
    if (/cancel/i.test(String(e))) return null;
    throw new CameraUnavailable(`the camera could not scan: ${String(e)}`);
  }
  // Errors from here on are the core's (a bad or unsupported code), not the camera's.
  return ipc.addUri(content);
}
