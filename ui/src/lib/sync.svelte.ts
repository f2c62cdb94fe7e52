// Sync between devices (docs/ipc.md, "Sync"): the status the settings screen shows, kept
// current by the sync-status event; a sync that changed accounts refreshes the list.
import { app, refreshAll } from "./state.svelte";
import type { SyncStatus } from "./types";

export const sync = $state({ status: null as SyncStatus | null });

/** A sync finished (in the background or on demand). */
export function receiveSyncStatus(s: SyncStatus): void {
  sync.status = s;
  if (s.lastChanged > 0 && !s.lastError && app.status?.unlocked) void refreshAll();
}
