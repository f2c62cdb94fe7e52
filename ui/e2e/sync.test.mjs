// Browser flows of Settings → Sync (docs/ipc.md, "Sync") against the fake shell, at 390×844, in
// English and Swedish, with axe on every state of the section.
import { test } from "node:test";
import assert from "node:assert/strict";
import { audit, BANK, GITHUB, PASSWORD, shot, unlockedWith, useApp } from "./harness.mjs";

const SYNC_PASS = "tangerine lighthouse orbit 42";

const { withApp } = useApp();

const fakeSync = (page) => page.evaluate(() => JSON.parse(JSON.stringify({
  sync: window.__twofoldFake.state.sync, passphrases: window.__twofoldFake.state.syncPassphrases,
})));

/**
 * Rust asks for the vault password again (within 60 s, as for a plain export) before a sync
 * target is chosen or a sync set created or joined: the section asks, then goes on by itself.
 */
async function passwordAgain(section, sv = false) {
  const form = section.getByTestId("reauth");
  await form.getByText(sv ? "Synkning skickar alla dina hemligheter" : "Syncing sends all your secrets").waitFor();
  await form.getByLabel(sv ? "Valvets lösenord" : "Vault password").fill(PASSWORD);
  await form.getByRole("button", { name: sv ? "Fortsätt" : "Continue" }).click();
  await form.waitFor({ state: "detached" });
}

async function openSettings(page, name = "Settings") {
  await page.getByTestId("account").first().waitFor();
  await page.getByRole("button", { name }).click();
  await page.getByTestId("sync").waitFor();
}

test("sync (en): choose a folder, create with a confirmed strong passphrase, status, Sync now, a background sync refreshes the list, turn off", async () => {
  await withApp(unlockedWith([GITHUB]), {}, async ({ page }) => {
    await openSettings(page);
    const section = page.getByTestId("sync");
    await section.getByRole("heading", { name: "Sync between your devices" }).waitFor();
    await section.getByText("the folder or server sees no secret").waitFor();
    await audit(page, "sync off (en)");
    await section.getByRole("button", { name: "Choose sync folder…" }).click();
    await section.getByTestId("reauth").waitFor();
    await audit(page, "sync asks for the password again (en)");
    await passwordAgain(section);

    // An empty folder: the passphrase creates the sync set, so it is asked twice and rated.
    assert.equal(await section.getByTestId("sync-place").textContent(), "/home/me/Sync");
    await section.getByText("This place has no sync set yet.").waitFor();
    await section.getByLabel("Sync passphrase", { exact: true }).fill("abc123");
    await section.getByLabel("Confirm sync passphrase").fill("abc123");
    await section.locator('[data-testid="strength"][data-score="0"]').waitFor();
    await section.getByRole("button", { name: "Start syncing" }).click();
    await section.getByRole("alert").filter({ hasText: "Choose a stronger sync passphrase." }).waitFor();
    await section.getByLabel("Sync passphrase", { exact: true }).fill(SYNC_PASS);
    await section.getByLabel("Confirm sync passphrase").fill(SYNC_PASS + "x");
    await section.getByRole("button", { name: "Start syncing" }).click();
    await section.getByRole("alert").filter({ hasText: "The sync passphrases do not match." }).waitFor();
    assert.deepEqual((await fakeSync(page)).passphrases, [], "nothing was sent while the form was wrong");
    await section.getByLabel("Confirm sync passphrase").fill(SYNC_PASS);
    await audit(page, "sync creating (en)");
    await shot(page, "50-sync-create-light-en");
    await section.getByRole("button", { name: "Start syncing" }).click();

    await page.getByTestId("toast").filter({ hasText: "Sync is on" }).waitFor();
    const status = section.getByTestId("sync-status");
    await status.getByText(/^Last sync: /).waitFor();
    await status.getByText("0 other devices seen in the last sync").waitFor();
    assert.deepEqual((await fakeSync(page)).passphrases, [SYNC_PASS]);
    assert.equal(await section.getByLabel("Sync passphrase", { exact: true }).count(), 0, "the passphrase field is gone");
    await audit(page, "sync on (en)");
    await shot(page, "51-sync-on-light-en");
    await section.getByRole("button", { name: "Sync now" }).click();
    await page.waitForFunction(() => window.__twofoldFake.state.calls.includes("sync_now"));

    // A background sync that failed is shown in plain words with the details.
    await page.evaluate(() => window.__twofoldFake.syncFails("Io", "cannot read the folder /home/me/Sync: No such file or directory"));
    await section.getByTestId("sync-error").filter({ hasText: "The last sync failed: Could not read or write a file." }).waitFor();
    await section.getByTestId("sync-error").filter({ hasText: "/home/me/Sync" }).waitFor();

    // Another device's account arrives with a background sync: the account list shows it.
    await page.evaluate((uri) => window.__twofoldFake.syncArrives(uri), BANK);
    await section.getByTestId("sync-error").waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Back", exact: true }).click();
    await page.getByTestId("account").filter({ hasText: "Bank" }).waitFor();
    await page.getByRole("button", { name: "Settings" }).click();

    await section.getByRole("button", { name: "Turn off sync" }).click();
    await page.getByTestId("toast").filter({ hasText: "Sync is off" }).waitFor();
    await section.getByRole("button", { name: "Choose sync folder…" }).waitFor();
    assert.equal((await fakeSync(page)).sync.state, "off");
  });
});

test("sync (sv): joining asks once, a wrong passphrase is said by the field, then devices and problems are listed", async () => {
  const fake = unlockedWith([GITHUB], {
    language: "sv",
    syncSet: {
      passphrase: SYNC_PASS, devices: 2, accounts: [BANK],
      problems: [{ file: "0f3a.twofold-sync", reason: "the replica was altered or damaged" }],
    },
  });
  await withApp(fake, { locale: "sv-SE" }, async ({ page }) => {
    await openSettings(page, "Inställningar");
    const section = page.getByTestId("sync");
    await section.getByRole("heading", { name: "Synkronisering mellan dina enheter" }).waitFor();
    await audit(page, "sync off (sv)");
    await section.getByRole("button", { name: "Välj synkmapp…" }).click();
    await passwordAgain(section, true);
    await section.getByText("Dina andra enheter synkroniserar redan här.").waitFor();
    // Joining: one field, no confirmation and no strength meter.
    assert.equal(await section.getByLabel("Bekräfta synklösenfrasen").count(), 0);
    assert.equal(await section.getByTestId("strength").count(), 0);
    await section.getByLabel("Synklösenfras").fill("fel fras");
    await section.getByRole("button", { name: "Gå med och synkronisera" }).click();
    await section.getByRole("alert").filter({ hasText: "Fel synklösenfras." }).waitFor();
    assert.equal(await page.getByTestId("error").count(), 0, "said by the field, not the global alert");
    await audit(page, "sync wrong passphrase (sv)");
    await shot(page, "52-sync-wrong-passphrase-light-sv");
    await section.getByLabel("Synklösenfras").fill(SYNC_PASS);
    await section.getByRole("button", { name: "Gå med och synkronisera" }).click();

    await page.getByTestId("toast").filter({ hasText: "Synkroniseringen är på" }).waitFor();
    await section.getByText("2 andra enheter sågs vid senaste synkroniseringen").waitFor();
    await section.getByTestId("sync-problems").filter({ hasText: "0f3a.twofold-sync: the replica was altered or damaged" }).waitFor();
    await section.getByText(/^Senaste synkronisering: /).waitFor();
    assert.deepEqual((await fakeSync(page)).passphrases, ["fel fras", SYNC_PASS]);
    await audit(page, "sync on with problems (sv)");
    await shot(page, "53-sync-on-problems-light-sv");
    // The account from the other devices is in the list.
    await page.getByRole("button", { name: "Tillbaka" }).click();
    await page.getByTestId("account").filter({ hasText: "Bank" }).waitFor();
  });
});

test("sync on Android: the storage-access-framework folder is chosen and named as the provider names it, the passphrase creates (sv)", async () => {
  const fake = unlockedWith([GITHUB], { platform: "android", language: "sv" });
  await withApp(fake, { locale: "sv-SE" }, async ({ page }) => {
    await openSettings(page, "Inställningar");
    const section = page.getByTestId("sync");
    assert.equal(await section.getByTestId("sync-no-folder").count(), 0);
    await section.getByRole("button", { name: "Välj synkmapp…" }).click();
    await passwordAgain(section, true);
    await section.getByTestId("sync-place").filter({ hasText: "primary:Sync/Twofold" }).waitFor();
    await section.getByLabel("Synklösenfras", { exact: true }).fill(SYNC_PASS);
    await section.getByLabel("Bekräfta synklösenfrasen").fill(SYNC_PASS);
    await audit(page, "sync Android folder chosen (sv)");
    await section.getByRole("button", { name: "Börja synkronisera" }).click();
    await page.waitForFunction(() => window.__twofoldFake.state.sync.state === "on");
    assert.deepEqual((await fakeSync(page)).passphrases, [SYNC_PASS]);
  });
});

test("sync on an iPhone: no folder picker, WebDAV is offered open; a refused login, then the server is used and the passphrase creates (en, dark)", async () => {
  const fake = unlockedWith([GITHUB], { platform: "ios", webdavPassword: "dav password" });
  await withApp(fake, { colorScheme: "dark" }, async ({ page }) => {
    await openSettings(page);
    const section = page.getByTestId("sync");
    await section.getByTestId("sync-no-folder").waitFor();
    assert.equal(await section.getByRole("button", { name: "Choose sync folder…" }).count(), 0);
    await section.getByLabel("Server address (https://…)").fill("https://cloud.example.com/remote.php/dav/files/me/Twofold");
    await section.getByLabel("User name").fill("me");
    await section.getByLabel("Server password").fill("not it");
    await audit(page, "sync WebDAV form (dark)");
    await shot(page, "54-sync-webdav-dark-en");
    await section.getByRole("button", { name: "Use this server" }).click();
    await passwordAgain(section);
    await section.getByTestId("sync-alert").filter({ hasText: "refused the login" }).waitFor();
    assert.equal((await fakeSync(page)).sync.state, "off");
    await section.getByLabel("Server password").fill("dav password");
    await section.getByRole("button", { name: "Use this server" }).click();
    await section.getByText("This place has no sync set yet.").waitFor();
    assert.equal(await section.getByTestId("sync-place").textContent(), "https://cloud.example.com/remote.php/dav/files/me/Twofold/");
    await section.getByLabel("Sync passphrase", { exact: true }).fill(SYNC_PASS);
    await section.getByLabel("Confirm sync passphrase").fill(SYNC_PASS);
    await section.getByRole("button", { name: "Start syncing" }).click();
    await page.getByTestId("toast").filter({ hasText: "Sync is on" }).waitFor();
    assert.deepEqual((await fakeSync(page)).passphrases, [SYNC_PASS]);
    await audit(page, "sync on through WebDAV (dark)");
  });
});

test("sync already on at start: the status is read from Rust; the desktop's folder dialog cancelled changes nothing", async () => {
  await withApp(unlockedWith([GITHUB], { syncOn: true, syncSet: { passphrase: SYNC_PASS, devices: 1 } }), {}, async ({ page }) => {
    await openSettings(page);
    const section = page.getByTestId("sync");
    await section.getByText("1 other device seen in the last sync").waitFor();
    assert.equal(await section.getByTestId("sync-place").textContent(), "/home/me/Sync");
    await section.getByRole("button", { name: "Turn off sync" }).click();
    await page.evaluate(() => (window.__twofoldFake.state.syncFolder = null));
    await section.getByRole("button", { name: "Choose sync folder…" }).click();
    await passwordAgain(section);
    await page.waitForFunction(() => window.__twofoldFake.state.calls.includes("sync_folder_choose"));
    await section.getByRole("button", { name: "Choose sync folder…" }).waitFor();
    assert.equal((await fakeSync(page)).sync.state, "off");
  });
});
