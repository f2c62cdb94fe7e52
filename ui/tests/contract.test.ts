// The UI, its test fake and docs/ipc.md name the same commands and events.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (p: string) => readFileSync(join(root, p), "utf8");
const docPath = join(root, "..", "docs", "ipc.md");

function docCommands(doc: string): string[] {
  const section = doc.slice(doc.indexOf("## Commands"), doc.indexOf("## Events"));
  return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]).sort();
}
const uiCommands = () => [...read("src/lib/ipc.ts").matchAll(/call<[^>]*>\("([a-z_]+)"/g)].map((m) => m[1]).sort();
const fakeCommands = () => {
  const src = read("src/testing/fake-rust.ts");
  const body = src.slice(src.indexOf("const handlers"), src.indexOf("mockIPC("));
  return [...body.matchAll(/^ {4}([a-z_]+): /gm)].map((m) => m[1]).sort(); // plugin commands are quoted, so left out
};

describe.skipIf(!existsSync(docPath))("IPC contract", () => {
  test("the UI calls exactly the commands of docs/ipc.md", () => {
    expect(uiCommands()).toEqual(docCommands(readFileSync(docPath, "utf8")));
  });
  test("the fake implements every command of docs/ipc.md", () => {
    expect(fakeCommands()).toEqual(docCommands(readFileSync(docPath, "utf8")));
  });
  test("the UI listens to the events of docs/ipc.md", () => {
    const doc = readFileSync(docPath, "utf8");
    const events = [...doc.slice(doc.indexOf("## Events")).matchAll(/^- `([a-z-]+)`/gm)].map((m) => m[1]).sort();
    const listened = [...read("src/lib/ipc.ts").matchAll(/listen<[^>]*>\("([a-z-]+)"/g)].map((m) => m[1]).sort();
    expect(listened).toEqual(events);
  });
});
