// Browser flows of Settings → Recently removed (docs/vault.md, "Recently removed"; docs/ipc.md
// `removed_list`, `account_restore`, `SyncStatus.manyRemoved`) against the fake shell, in
// English and Swedish, with axe: a background sync removes four accounts, a notice says so and
// leads to the section, which names who removed each; Restore brings one back to the list.
import { test } from "node:test";
import assert from "node:assert/strict";
import { audit, BANK, GITHUB, HOTP, shot, unlockedWith, useApp } from "./harness.mjs";

const SHOP = "otpauth://totp/Shop:me?secret=JBSWY3DPEHPK3PXP&issuer=Shop";
const MAIL = "otpauth://totp/Mail:me?secret=MFRGGZDFMZTWQ2LK&issuer=Mail";
const DEVICE = "ab12cd34ef56ab12cd34ef56ab12cd34";

const { withApp } = useApp();

const fake = (language) =>
  unlockedWith([GITHUB, BANK, HOTP, SHOP, MAIL], { language, syncOn: true, syncSet: { passphrase: "x", devices: 1 } });

async function flow(page, l) {
  await page.getByTestId("account").first().waitFor();
  assert.equal(await page.getByTestId("account").count(), 5);
  await page.evaluate((d) => window.__twofoldFake.syncRemoves(["Bank", "Forum", "Shop", "Mail"], d), DEVICE);
  const banner = page.getByTestId("removed-banner");
  await banner.getByText(l.notice).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="account"]').length === 1);
  await audit(page, `removed notice (${l.lang})`);
  await shot(page, `60-removed-notice-light-${l.lang}`);
  await banner.getByRole("button", { name: l.show }).click();
  await banner.waitFor({ state: "detached" });

  const section = page.getByTestId("recently-removed");
  await section.getByRole("heading", { name: l.title }).waitFor();
  const items = section.getByTestId("removed-item");
  await items.first().waitFor();
  assert.equal(await items.count(), 4);
  for (const text of await items.allTextContents()) assert.ok(text.includes(l.by), text);
  await section.scrollIntoViewIfNeeded();
  await audit(page, `recently removed (${l.lang})`);
  await shot(page, `61-recently-removed-light-${l.lang}`);

  await section.getByRole("button", { name: l.restoreBank }).click();
  await page.getByTestId("toast").filter({ hasText: l.back }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="removed-item"]').length === 3);
  const calls = await page.evaluate(() => window.__twofoldFake.state.calls);
  assert.ok(calls.includes("account_restore"));
  assert.ok(!(await section.textContent()).includes("Bank"), "Bank is no longer among the removed");
  const entries = await page.evaluate(() => window.__twofoldFake.state.entries.map((e) => e.view.issuer).sort());
  assert.deepEqual(entries, ["Bank", "GitHub"]);
}

test("recently removed (en): a sync that removed four says so; the section names the device; Restore brings one back", async () => {
  await withApp(fake("en"), {}, async ({ page }) => {
    await flow(page, {
      lang: "en",
      notice: "A sync removed 4 accounts from this device.",
      show: "Show",
      title: "Recently removed",
      by: "by another device (sync, device ab12cd34)",
      restoreBank: "Restore Bank (me)",
      back: "Bank (me) is back",
    });
  });
});

test("recently removed (sv): samma flöde på svenska", async () => {
  await withApp(fake("sv"), { locale: "sv-SE" }, async ({ page }) => {
    await flow(page, {
      lang: "sv",
      notice: "En synkning tog bort 4 konton från den här enheten.",
      show: "Visa",
      title: "Nyligen borttagna",
      by: "av en annan enhet (synkning, enhet ab12cd34)",
      restoreBank: "Återställ Bank (me)",
      back: "Bank (me) är tillbaka",
    });
  });
});
