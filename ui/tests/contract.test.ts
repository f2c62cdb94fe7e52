// The UI, its test fake and docs/ipc.md + docs/ipc-push.md name the same commands and events.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (p: string) => readFileSync(join(root, p), "utf8");
const docPath = join(root, "..", "docs", "ipc.md");
const pushDocPath = join(root, "..", "docs", "ipc-push.md");
/** Both contract documents (location_current is in both: counted once). */
const docs = () => [docPath, pushDocPath].map((p) => readFileSync(p, "utf8"));
const uniqueSorted = (xs: string[]) => [...new Set(xs)].sort();

function docCommands(doc: string): string[] {
  const section = doc.slice(doc.indexOf("## Commands"), doc.indexOf("## Events"));
  return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]).sort();
}
const allDocCommands = () => uniqueSorted(docs().flatMap(docCommands));
const allDocEvents = () =>
  uniqueSorted(docs().flatMap((doc) => [...doc.slice(doc.indexOf("## Events")).matchAll(/^- `([a-z-]+)`/gm)].map((m) => m[1])));
const uiCommands = () => [...read("src/lib/ipc.ts").matchAll(/(?:call|raw)<[^>]*>\("([a-z_]+)"/g)].map((m) => m[1]).sort();
const fakeCommands = () => {
  const src = read("src/testing/fake-rust.ts");
  const body = src.slice(src.indexOf("const handlers"), src.indexOf("mockIPC("));
  return [...body.matchAll(/^ {4}([a-z_]+): /gm)].map((m) => m[1]).sort(); // plugin commands are quoted, so left out
};

describe.skipIf(!existsSync(docPath) || !existsSync(pushDocPath))("IPC contract", () => {
  test("the UI calls exactly the commands of docs/ipc.md and docs/ipc-push.md", () => {
    expect(uiCommands()).toEqual(allDocCommands());
  });
  test("the fake implements every command of both documents", () => {
    expect(fakeCommands()).toEqual(allDocCommands());
  });
  test("the push commands and events are really read from docs/ipc-push.md", () => {
    expect(allDocCommands()).toEqual(expect.arrayContaining(["push_answer", "push_poll", "push_mute", "location_current"]));
    expect(allDocEvents()).toEqual(expect.arrayContaining(["push-challenges", "push-open", "vault-locked"]));
  });
  test("the UI listens to the events of both documents", () => {
    const listened = [...read("src/lib/ipc.ts").matchAll(/listen<[^>]*>\("([a-z-]+)"/g)].map((m) => m[1]).sort();
    expect(listened).toEqual(allDocEvents());
  });
});
