// Sync between devices (docs/ipc.md, "Sync"): the status the settings screen shows, kept
// current by the sync-status event; a sync that changed accounts refreshes the list.
// A sync that removed many accounts here (Rust decides: `manyRemoved`) is told in a notice that
// leads to Settings → Recently removed.
import { app, refreshAll } from "./state.svelte";
import type { SyncStatus } from "./types";

export const sync = $state({ status: null as SyncStatus | null, removedNotice: 0 });

/** A sync finished (in the background or on demand). */
export function receiveSyncStatus(s: SyncStatus): void {
  sync.status = s;
  if (s.manyRemoved && !s.lastError) sync.removedNotice = s.lastRemoved;
  if (s.lastChanged > 0 && !s.lastError && app.status?.unlocked) void refreshAll();
}
