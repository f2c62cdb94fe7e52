// Copying a code, and clearing it again after 30 s if the clipboard still holds it.
export const CLIPBOARD_CLEAR_MS = 30_000;

let timer: ReturnType<typeof setTimeout> | undefined;

function clearDelay(): number {
  // The e2e build may shorten the delay so a test can watch the clearing happen.
  const override = import.meta.env.MODE === "e2e"
    ? (globalThis as { __TWOFOLD_CLIPBOARD_CLEAR_MS__?: number }).__TWOFOLD_CLIPBOARD_CLEAR_MS__
    : undefined;
  return override ?? CLIPBOARD_CLEAR_MS;
}

/** Writes code to the clipboard; rejects when the clipboard is not available. */
export async function copyCode(code: string, onCleared?: () => void): Promise<void> {
  await navigator.clipboard.writeText(code);
  clearTimeout(timer);
  timer = setTimeout(async () => {
    let still = true;
    try {
      still = (await navigator.clipboard.readText()) === code;
    } catch {
      // Reading may be refused; a one-time code is still a credential, so clear it anyway.
      still = true;
    }
    if (still) {
      await navigator.clipboard.writeText("").catch(() => undefined);
      onCleared?.();
    }
  }, clearDelay());
}
