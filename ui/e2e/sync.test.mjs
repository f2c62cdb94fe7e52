// Browser flows of Settings → Sync (docs/ipc.md, "Sync") against the fake shell, at 390×844, in
// English and Swedish, with axe on every state of the section: setting up, the status, and the
// devices (listed, this one renamed, another removed with a re-key, a re-key elsewhere rejoined).
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
async function passwordAgain(section, sv = false, why = sv ? "Synkning skickar alla dina hemligheter" : "Syncing sends all your secrets") {
  const form = section.getByTestId("reauth");
  await form.getByText(why).waitFor();
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

const NEW_PASS = "violet tundra bicycle 7391";

const devicesState = (page) => page.evaluate(() => JSON.parse(JSON.stringify({
  devices: window.__twofoldFake.state.syncDevices, rekeys: window.__twofoldFake.state.syncRekeys, calls: window.__twofoldFake.state.calls,
})));

for (const sv of [false, true]) {
  const lang = sv ? "sv" : "en";
  const w = (en, svText) => (sv ? svText : en);
  test(`sync devices (${lang}): the list with last syncs, this device renamed, another removed with a new passphrase twice and the password again; a re-key elsewhere asks for the new passphrase`, async () => {
    const fake = unlockedWith([GITHUB], { syncOn: true, syncSet: { passphrase: SYNC_PASS, devices: 2 }, ...(sv ? { language: "sv" } : {}) });
    await withApp(fake, sv ? { locale: "sv-SE" } : {}, async ({ page }) => {
      await openSettings(page, w("Settings", "Inställningar"));
      const section = page.getByTestId("sync");
      const list = section.getByTestId("sync-devices");
      await list.getByRole("heading", { name: w("Devices", "Enheter") }).waitFor();
      await list.getByTestId("sync-device").filter({ hasText: w("Anna's laptop (this device)", "Anna's laptop (den här enheten)") }).waitFor();
      await list.getByTestId("sync-device").filter({ hasText: "Bertil's phone" }).getByText(w(/^Last sync: /, /^Senast synkroniserad: /)).waitFor();
      assert.equal(await list.getByTestId("sync-device").count(), 3);
      // This device has no Remove button; the others have one each.
      assert.equal(await list.getByRole("button", { name: w("Remove Anna's laptop", "Ta bort Anna's laptop") }).count(), 0);
      await audit(page, `sync devices (${lang})`);
      await shot(page, `55-sync-devices-light-${lang}`);

      // Rename this device.
      await list.getByLabel(w("Name of this device", "Den här enhetens namn")).fill("Anna's work laptop");
      await list.getByRole("button", { name: w("Save name", "Spara namnet") }).click();
      await page.getByTestId("toast").filter({ hasText: w("Name saved", "Namnet är sparat") }).waitFor();
      await list.getByTestId("sync-device").filter({ hasText: "Anna's work laptop" }).waitFor();
      assert.equal((await devicesState(page)).devices[0].name, "Anna's work laptop");

      // Remove Cecilia's tablet: the new passphrase twice, rated; weak and mismatched refused
      // here, then the password again (60 s rule), then the re-key.
      await page.evaluate(() => (window.__twofoldFake.state.authAt = 0));
      await list.getByRole("button", { name: w("Remove Cecilia's tablet", "Ta bort Cecilia's tablet") }).click();
      const form = list.getByTestId("sync-remove");
      await form.getByText(w("Take Cecilia's tablet's access", "Ta också bort Cecilia's tablets åtkomst")).waitFor();
      await form.getByLabel(w("New sync passphrase", "Ny synklösenfras"), { exact: true }).fill("abc123");
      await form.getByLabel(w("Confirm new sync passphrase", "Bekräfta den nya synklösenfrasen")).fill("abc123");
      await form.locator('[data-testid="strength"][data-score="0"]').waitFor();
      await form.getByRole("button", { name: w("Remove and change the passphrase", "Ta bort och byt lösenfras") }).click();
      await form.getByRole("alert").filter({ hasText: w("Choose a stronger sync passphrase.", "Välj en starkare synklösenfras.") }).waitFor();
      await form.getByLabel(w("New sync passphrase", "Ny synklösenfras"), { exact: true }).fill(NEW_PASS);
      await form.getByLabel(w("Confirm new sync passphrase", "Bekräfta den nya synklösenfrasen")).fill(NEW_PASS + "x");
      await form.getByRole("button", { name: w("Remove and change the passphrase", "Ta bort och byt lösenfras") }).click();
      await form.getByRole("alert").filter({ hasText: w("The sync passphrases do not match.", "Synklösenfraserna stämmer inte överens.") }).waitFor();
      assert.deepEqual((await devicesState(page)).rekeys, [], "nothing sent while the form was wrong");
      await form.getByLabel(w("Confirm new sync passphrase", "Bekräfta den nya synklösenfrasen")).fill(NEW_PASS);
      await audit(page, `sync remove a device (${lang})`);
      await shot(page, `56-sync-remove-device-light-${lang}`);
      await form.getByRole("button", { name: w("Remove and change the passphrase", "Ta bort och byt lösenfras") }).click();
      // Rust asks the vault password again before a device is removed.
      await passwordAgain(list, sv, w("Removing a device changes the sync passphrase", "Att ta bort en enhet byter synklösenfrasen"));
      await page.getByTestId("toast").filter({ hasText: w("Cecilia's tablet was removed.", "Cecilia's tablet är borttagen.") }).waitFor();
      await list.getByTestId("sync-device").filter({ hasText: "Cecilia's tablet" }).waitFor({ state: "detached" });
      assert.equal(await list.getByTestId("sync-device").count(), 2);
      const state = await devicesState(page);
      assert.deepEqual(state.rekeys, [["b1".repeat(16), NEW_PASS]]);

      // Another device re-keys: the background sync says so, and the section asks for the new
      // passphrase; a wrong one is said by the field.
      await page.evaluate(() => window.__twofoldFake.syncRekeyed("orange canyon seventy 12"));
      const rejoin = section.getByTestId("sync-rejoin");
      await rejoin.getByRole("heading", { name: w("Your sync set has a new passphrase", "Din synkgrupp har en ny lösenfras") }).waitFor();
      await audit(page, `sync rejoin (${lang})`);
      await shot(page, `57-sync-rejoin-light-${lang}`);
      await rejoin.getByLabel(w("New sync passphrase", "Ny synklösenfras")).fill(SYNC_PASS);
      await rejoin.getByRole("button", { name: w("Use the new passphrase", "Använd den nya lösenfrasen") }).click();
      await rejoin.getByRole("alert").filter({ hasText: w("Wrong sync passphrase.", "Fel synklösenfras.") }).waitFor();
      await rejoin.getByLabel(w("New sync passphrase", "Ny synklösenfras")).fill("orange canyon seventy 12");
      await rejoin.getByRole("button", { name: w("Use the new passphrase", "Använd den nya lösenfrasen") }).click();
      await page.getByTestId("toast").filter({ hasText: w("Syncing again", "Synkroniserar igen") }).waitFor();
      await rejoin.waitFor({ state: "detached" });
    });
  });
}
