import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { copyCode, CLIPBOARD_CLEAR_MS } from "../src/lib/clipboard";

let content = "";
beforeEach(() => {
  vi.useFakeTimers();
  content = "";
  vi.stubGlobal("navigator", {
    clipboard: {
      writeText: async (s: string) => void (content = s),
      readText: async () => content,
    },
  });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

test("the code is cleared after 30 s when the clipboard still holds it", async () => {
  const cleared = vi.fn();
  await copyCode("123456", cleared);
  expect(content).toBe("123456");
  await vi.advanceTimersByTimeAsync(CLIPBOARD_CLEAR_MS - 1);
  expect(content).toBe("123456");
  await vi.advanceTimersByTimeAsync(1);
  expect(content).toBe("");
  expect(cleared).toHaveBeenCalledOnce();
});

test("something the user copied since is left alone", async () => {
  const cleared = vi.fn();
  await copyCode("123456", cleared);
  content = "my shopping list";
  await vi.advanceTimersByTimeAsync(CLIPBOARD_CLEAR_MS);
  expect(content).toBe("my shopping list");
  expect(cleared).not.toHaveBeenCalled();
});

test("a second copy restarts the 30 s for the new code", async () => {
  await copyCode("111111");
  await vi.advanceTimersByTimeAsync(20_000);
  await copyCode("222222");
  await vi.advanceTimersByTimeAsync(20_000);
  expect(content).toBe("222222");
  await vi.advanceTimersByTimeAsync(10_000);
  expect(content).toBe("");
});
