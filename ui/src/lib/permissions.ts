// The OS permissions of docs/ipc.md: notifications and location are checked and asked from Rust
// (the plugins' own permission calls, behind the shell's Device boundary); the camera is the
// barcode scanner's, whose Rust side has no permission call, so its own JS calls ask for it here.
// Desktop has only notifications (no camera scanning, no location).
import { checkPermissions, requestPermissions } from "@tauri-apps/plugin-barcode-scanner";
import { ipc } from "./ipc";
import type { Permission, PermissionState, PermissionView, Platform } from "./types";

/** The order the guide gives them: camera, notifications, location. */
const ORDER: Permission[] = ["camera", "notifications", "location"];

/** The barcode scanner's state ("prompt-with-rationale" and the like) as the app's. */
export function fromPlugin(s: string): PermissionState {
  switch (s) {
    case "granted": return "granted";
    case "denied": return "denied";
    case "prompt-with-rationale": return "promptWithRationale";
    default: return "prompt";
  }
}

async function camera(ask: boolean): Promise<PermissionState> {
  return fromPlugin(await (ask ? requestPermissions() : checkPermissions()));
}

/** Every permission that applies on `platform`, with its state now. */
export async function permissionsNow(platform: Platform): Promise<PermissionView[]> {
  const list = await ipc.permissionsStatus();
  if (platform !== "desktop") list.push({ permission: "camera", state: await camera(false) });
  return list.sort((a, b) => ORDER.indexOf(a.permission) - ORDER.indexOf(b.permission));
}

/** Asks for one permission (the OS prompt, when the OS still shows one); its state after. */
export async function askFor(permission: Permission): Promise<PermissionState> {
  if (permission === "camera") return camera(true);
  return (await ipc.permissionRequest(permission)).state;
}

/** Whether asking again can still show the OS prompt. */
export function canAsk(state: PermissionState): boolean {
  return state === "prompt" || state === "promptWithRationale";
}
