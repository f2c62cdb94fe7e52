// Browser flows of push sign-in approvals (docs/ipc-push.md) against the fake shell, at 390×844.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GITHUB, PASSWORD, pngBytes, shot, useApp } from "./harness.mjs";

const ACCOUNT = { serial: "PIPU0001A2B3", issuer: "Example Corp", label: "alice@example.com" };
const base = (extra = {}) => ({
  firstRunDone: true, vaultPassword: PASSWORD, unlocked: true, accounts: [GITHUB], pushAccounts: [ACCOUNT], ...extra,
});

const { withApp } = useApp();

const fakeState = (page) => page.evaluate(() => JSON.parse(JSON.stringify({
  activity: window.__twofoldFake.state.activity, accounts: window.__twofoldFake.state.pushAccounts, calls: window.__twofoldFake.state.calls,
})));

async function smallTargets(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("button, select, input, summary")]
      .map((el) => ({ el, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.width > 0 && (r.width < 44 || r.height < 44))
      .map(({ el }) => el.outerHTML.slice(0, 80)));
}

test("push: the event opens the newest request; number matching wrong, then right; location unavailable on desktop", async () => {
  const fake = base({ pushChallenges: [{ nonce: "n-older", stored: true, ageSecs: 40, options: ["11", "22", "33"], correct: "22" }] });
  await withApp(fake, {}, async ({ page }) => {
    await page.getByTestId("account").first().waitFor();
    // On unlock the UI reads what is stored, then polls.
    await page.waitForFunction(() => window.__twofoldFake.state.calls.includes("push_poll"));
    const calls = (await fakeState(page)).calls;
    assert.ok(calls.indexOf("push_pending") < calls.indexOf("push_poll"));

    // A stored request is listed, not thrown in the user's face on unlock.
    await page.getByTestId("push-requests").filter({ hasText: "(1 waiting)" }).waitFor();
    assert.equal(await page.getByTestId("push-approval").count(), 0);
    // The fake stamps the request 12 s before the moment it is pushed; what the screen may
    // show is 12 s plus however long this machine takes to get there (measured, not guessed).
    const pushedAt = await page.evaluate(() => Date.now());
    await page.evaluate(() => window.__twofoldFake.pushChallenge({
      nonce: "n-match", options: ["17", "42", "93"], correct: "42", ageSecs: 12, count: 3,
      title: "Sign in to Example VPN", question: "Sign-in to Firefox from 192.0.2.10 at 14:02",
    }));
    const dialog = page.getByTestId("push-approval");
    await dialog.waitFor();
    await dialog.getByText("Sign-in to Firefox from 192.0.2.10 at 14:02").waitFor();
    await dialog.getByText("Account: Example Corp · alice@example.com").waitFor();
    await dialog.getByText("3 requests").waitFor();
    const shown = await page.evaluate(() => ({ text: document.querySelector('[data-testid="push-age"]').textContent, at: Date.now() }));
    const age = Number(/^(\d+) s ago$/.exec(shown.text)?.[1]);
    const most = 13 + Math.ceil((shown.at - pushedAt) / 1000);
    assert.ok(age >= 12 && age <= most, `age shown "${shown.text}", expected 12..${most} s`);
    await dialog.getByText("Location unavailable").waitFor();

    // All three numbers, as large buttons, none chosen or focused.
    const options = page.getByTestId("push-option");
    assert.deepEqual((await options.allTextContents()).sort(), ["17", "42", "93"]);
    for (const box of await options.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON())))
      assert.ok(box.width >= 44 && box.height >= 44, `number button ${box.width}×${box.height}`);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), null);
    assert.deepEqual(await smallTargets(page), []);
    // The age goes on by itself.
    await page.waitForFunction((before) => {
      const m = /^(\d+) s ago$/.exec(document.querySelector('[data-testid="push-age"]').textContent);
      return m !== null && Number(m[1]) >= before + 2;
    }, age);
    await shot(page, "40-push-number-matching");

    await dialog.getByRole("button", { name: "17", exact: true }).click();
    await dialog.getByText("That number was wrong, try again.").waitFor();
    await shot(page, "41-push-wrong-number");
    await dialog.getByRole("button", { name: "42", exact: true }).click();
    await page.getByTestId("toast").filter({ hasText: "Sign-in approved." }).waitFor();
    await dialog.waitFor({ state: "detached" });

    const { activity } = await fakeState(page);
    assert.deepEqual(activity.map((a) => [a.decision, a.answer, a.accepted, a.location]),
      [["approve", "42", true, null], ["approve", "17", false, null]]);
    // The older request is still waiting on the accounts screen.
    await page.getByTestId("push-requests").filter({ hasText: "Sign-in requests (1 waiting)" }).waitFor();
  });
});

test("push: \"That wasn't me\" sends unknown_trigger, then mutes the account for 20 minutes", async () => {
  const fake = base({ pushChallenges: [{ nonce: "n-deny", stored: true, ageSecs: 5 }] });
  await withApp(fake, {}, async ({ page }) => {
    await page.getByTestId("push-requests").filter({ hasText: "(1 waiting)" }).click();
    const dialog = page.getByTestId("push-approval");
    await dialog.getByRole("button", { name: "Approve" }).waitFor();
    await dialog.getByRole("button", { name: "Deny", exact: true }).waitFor();
    await shot(page, "42-push-approve-deny");
    await dialog.getByRole("button", { name: "That wasn't me" }).click();
    await dialog.getByText("Sign-in denied.").waitFor();
    await shot(page, "43-push-denied-mute");
    await dialog.getByRole("button", { name: "Mute prompts from this account for 20 minutes" }).click();
    await page.getByTestId("toast").filter({ hasText: "muted for 20 minutes" }).waitFor();
    await dialog.waitFor({ state: "detached" });
    const { activity, accounts, calls } = await fakeState(page);
    assert.equal(activity[0].decision, "deny");
    assert.equal(activity[0].reason, "unknown_trigger");
    const minutes = (accounts[0].mutedUntil - Date.now() / 1000) / 60;
    assert.ok(minutes > 19.5 && minutes <= 20, `muted for ${minutes} min`);
    assert.ok(calls.includes("push_mute"));
  });
});

test("push: without decline reasons \"That wasn't me\" is a plain deny", async () => {
  const fake = base({ pushChallenges: [{ nonce: "n-plain", stored: true, declineReasons: false }] });
  await withApp(fake, {}, async ({ page }) => {
    await page.getByTestId("push-requests").filter({ hasText: "(1 waiting)" }).click();
    await page.getByTestId("push-approval").getByRole("button", { name: "That wasn't me" }).click();
    await page.getByTestId("push-mute").waitFor();
    const { activity } = await fakeState(page);
    assert.deepEqual([activity[0].decision, activity[0].reason], ["deny", null]);
  });
});

test("push: tapping the notification on android opens it; location shown and logged; the display code is large", async () => {
  const fake = base({ platform: "android", pushChallenges: [{ nonce: "n-code", stored: true, displayCode: "42", ageSecs: 3 }] });
  await withApp(fake, {}, async ({ page }) => {
    await page.getByTestId("account").first().waitFor();
    await page.evaluate(() => window.__twofoldFake.emit("push-open", { nonce: "n-code" }));
    const dialog = page.getByTestId("push-approval");
    await dialog.getByText("Location: near Stockholm, SE (59.33, 18.07, ±1 km)").waitFor();
    await shot(page, "44-push-android-location");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await page.getByTestId("push-display-code").filter({ hasText: "Type 42 on the sign-in page" }).waitFor();
    const size = await dialog.locator(".big").evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    assert.ok(size >= 48, `display code at ${size}px`);
    await shot(page, "45-push-display-code");
    await dialog.getByRole("button", { name: "Done" }).click();
    await dialog.waitFor({ state: "detached" });
    const { activity } = await fakeState(page);
    assert.deepEqual(activity[0].location, {
      latitude: 59.3293, longitude: 18.0686, accuracyM: 1000,
      place: { name: "Stockholm", region: "Stockholm", country: "SE", distanceKm: 0.4 },
    });
    // The activity log says where the location came from: this phone.
    await page.getByRole("button", { name: "Settings" }).click();
    await page.getByTestId("activity-entry").first()
      .getByText("This phone's location: near Stockholm, SE (59.33, 18.07, ±1 km)").waitFor();
  });
});

test("push: a request that expires while open closes with a message", async () => {
  await withApp(base(), {}, async ({ page }) => {
    await page.getByTestId("account").first().waitFor();
    await page.evaluate(() => window.__twofoldFake.pushChallenge({ nonce: "n-exp", ageSecs: 115 }));
    await page.getByTestId("push-approval").waitFor();
    await page.getByTestId("toast").filter({ hasText: "expired" }).waitFor({ timeout: 15000 });
    await page.getByTestId("push-approval").waitFor({ state: "detached" });
    await shot(page, "46-push-expired");
    assert.equal((await fakeState(page)).activity.length, 0);
  });
});

test("push: approving an account with pin=True asks for the vault password first", async () => {
  const fake = base({ pushAccounts: [{ ...ACCOUNT, requiresUnlock: true }], pushChallenges: [{ nonce: "n-pin", stored: true }] });
  await withApp(fake, {}, async ({ page }) => {
    await page.getByTestId("push-requests").filter({ hasText: "(1 waiting)" }).click();
    const dialog = page.getByTestId("push-approval");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await dialog.getByText("Enter your vault password to approve this sign-in.").waitFor();
    await dialog.getByLabel("Password").fill("wrong password");
    await dialog.getByRole("button", { name: "Unlock and approve" }).click();
    await dialog.getByRole("alert").filter({ hasText: "Wrong password" }).waitFor();
    await dialog.getByLabel("Password").fill(PASSWORD);
    await shot(page, "47-push-requires-unlock");
    await dialog.getByRole("button", { name: "Unlock and approve" }).click();
    await page.getByTestId("toast").filter({ hasText: "Sign-in approved." }).waitFor();
    assert.equal((await fakeState(page)).activity[0].accepted, true);
  });
});

test("push: accounts list shows push accounts (insecure warning, remove) and Settings the activity", async () => {
  const fake = base({
    pushAccounts: [ACCOUNT, { serial: "PIPU0002", issuer: "Lab", label: "bob", insecureTls: true }],
    pushChallenges: [{ nonce: "n-act", stored: true, options: ["17", "42", "93"], correct: "42" }],
  });
  await withApp(fake, {}, async ({ page }) => {
    await page.getByTestId("push-account").nth(1).waitFor();
    await page.getByTestId("push-insecure").waitFor();
    await shot(page, "48-push-accounts");
    await page.getByRole("button", { name: "Remove Lab · bob" }).click();
    await page.getByTestId("push-remove-sheet").getByRole("button", { name: "Remove", exact: true }).click();
    await page.getByTestId("toast").filter({ hasText: "Push sign-in removed" }).waitFor();
    assert.equal(await page.getByTestId("push-account").count(), 1);

    await page.getByTestId("push-requests").click();
    await page.getByTestId("push-option").first().waitFor();
    await page.getByTestId("push-approval").getByRole("button", { name: "17", exact: true }).click();
    await page.getByText("That number was wrong, try again.").waitFor();
    await page.getByTestId("push-approval").getByRole("button", { name: "42", exact: true }).click();
    await page.getByTestId("push-approval").waitFor({ state: "detached" });

    await page.getByRole("button", { name: "Settings" }).click();
    const log = page.getByTestId("push-activity");
    await log.getByTestId("activity-entry").nth(1).waitFor();
    const first = await log.getByTestId("activity-entry").first().textContent();
    assert.match(first, /Approved/);
    assert.match(first, /Number: 42/);
    assert.match(first, /Accepted by the server/);
    assert.match(first, /No location/);
    assert.match(await log.getByTestId("activity-entry").nth(1).textContent(), /Not accepted by the server/);
    await log.scrollIntoViewIfNeeded();
    await shot(page, "49-push-activity");
  });
});

test("push: the server cannot be reached: the prompt stays and Try again sends the same answer", async () => {
  const fake = base({ language: "sv", pushNetworkFailures: 1, pushChallenges: [{ nonce: "n-net", stored: true, count: 2 }] });
  await withApp(fake, {}, async ({ page }) => {
    await page.getByTestId("push-requests").filter({ hasText: "(1 väntar)" }).click();
    const dialog = page.getByTestId("push-approval");
    await dialog.getByText("2 förfrågningar").waitFor();
    await dialog.getByRole("button", { name: "Godkänn" }).click();
    await page.getByTestId("push-error").filter({ hasText: "går inte att nå" }).waitFor();
    await shot(page, "50-push-network-sv");
    await dialog.getByRole("button", { name: "Försök igen" }).click();
    await page.getByTestId("toast").filter({ hasText: "Inloggningen godkändes." }).waitFor();
    const { activity } = await fakeState(page);
    assert.deepEqual(activity.map((a) => [a.decision, a.accepted]), [["approve", true]]);
  });
});

test("push: a scanned pipush QR shows the server and every warning, and enrols only after Set up", async () => {
  const scans = [
    { push: "PIPU0009", host: "pi.example.com", warnings: ["tlsNotVerified", "pollOnly"] },
    { push: "PIPU0010", host: "127.0.0.1", warnings: ["pollOnly", "plainHttp"] },
  ];
  await withApp(base({ pushAccounts: [], scans }), {}, async ({ page }) => {
    await page.getByTestId("account").first().waitFor();
    await page.getByTestId("add").click();
    await page.getByRole("button", { name: "Work or school account" }).click();
    await page.getByTestId("scan-file").setInputFiles({ name: "p.png", mimeType: "image/png", buffer: pngBytes() });
    const confirm = page.getByTestId("push-confirm");
    await confirm.waitFor();
    assert.equal(await page.getByTestId("push-confirm-host").textContent(), "Server: pi.example.com");
    await confirm.getByText("Issuer: privacyIDEA").waitFor();
    const warnings = await page.getByTestId("push-confirm-warning").allTextContents();
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /sslverify=0/);
    assert.match(warnings[1], /sends no notifications/);
    // Which way its requests will arrive (docs/ipc-push.md, `delivery`).
    await page.getByTestId("push-confirm-delivery").getByText("appear only while Twofold is open").waitFor();
    // Nothing was sent before the confirmation.
    let fake = await page.evaluate(() => JSON.parse(JSON.stringify(window.__twofoldFake.state)));
    assert.deepEqual(fake.enrolmentsSent, []);
    assert.ok(!fake.calls.includes("push_enrol_confirm"), fake.calls.join());
    // The confirmation's buttons are large enough (the hidden file input is not a target).
    assert.deepEqual((await smallTargets(page)).filter((el) => !el.includes('data-testid="scan-fi')), []);
    await shot(page, "48-push-enrol-confirm");

    // Cancel: nothing sent, nothing enrolled.
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByText("Push sign-in was not set up.").waitFor();
    assert.equal(await confirm.count(), 0);
    fake = await page.evaluate(() => JSON.parse(JSON.stringify(window.__twofoldFake.state)));
    assert.deepEqual(fake.enrolmentsSent, []);
    assert.deepEqual(fake.pushAccounts, []);

    // The next one (plain HTTP to a test server on this device) is confirmed: enrolled.
    await page.getByTestId("scan-file").setInputFiles({ name: "q.png", mimeType: "image/png", buffer: pngBytes() });
    await confirm.waitFor();
    assert.equal(await page.getByTestId("push-confirm-host").textContent(), "Server: 127.0.0.1");
    await confirm.getByText("Plain HTTP: nothing is encrypted.", { exact: false }).waitFor();
    await page.getByRole("button", { name: "Set up push sign-in" }).click();
    await page.getByText("Push sign-in is set up for PIPU0010").waitFor();
    fake = await page.evaluate(() => JSON.parse(JSON.stringify(window.__twofoldFake.state)));
    assert.deepEqual(fake.enrolmentsSent, ["PIPU0010"]);
    assert.ok(fake.calls.indexOf("scan_image") < fake.calls.indexOf("push_enrol_confirm"));
  });
});

test("push: failing background polls are shown, a clock that is off is named, and the message goes when polls work again", async () => {
  await withApp(base(), {}, async ({ page }) => {
    await page.getByTestId("account").first().waitFor();
    assert.equal(await page.getByTestId("push-poll-failed").count(), 0);
    const failed = (clockOff, message) => page.evaluate(([clockOff, message]) => window.__twofoldFake.emit("push-poll-status", {
      at: Math.floor(Date.now() / 1000), clockOff, failures: [{ serial: "PIPU0001A2B3", message, clockOff }],
    }), [clockOff, message]);
    await failed(false, "PIPU0001A2B3: cannot reach https://pi.example.com/ttype/push: connection refused");
    await page.getByTestId("push-poll-failed").filter({ hasText: "Cannot check for sign-in requests: PIPU0001A2B3: cannot reach" }).waitFor();
    await failed(true, "PIPU0001A2B3: this device's clock is more than 60 seconds off the server's");
    await page.getByTestId("push-poll-failed").filter({ hasText: "clock is more than a minute off" }).waitFor();
    await shot(page, "49-push-clock-off");
    await page.evaluate(() => window.__twofoldFake.emit("push-poll-status", { at: Math.floor(Date.now() / 1000), clockOff: false, failures: [] }));
    await page.getByTestId("push-poll-failed").waitFor({ state: "detached" });
  });
});

test("push: answering a collapsed request shows the older ones of its group next, with no new event", async () => {
  await withApp(base({ collapsePush: true }), {}, async ({ page }) => {
    await page.getByTestId("account").first().waitFor();
    await page.waitForFunction(() => window.__twofoldFake.state.calls.includes("push_poll"));
    // Three sign-ins of one account found by one poll: one view, the newest, "3 requests".
    await page.evaluate(() => window.__twofoldFake.pushChallenges([
      { nonce: "n-first", ageSecs: 30, question: "first" },
      { nonce: "n-second", ageSecs: 20, question: "second" },
      { nonce: "n-third", ageSecs: 10, question: "third" },
    ]));
    const dialog = page.getByTestId("push-approval");
    await dialog.getByText("third").waitFor();
    await dialog.getByText("3 requests").waitFor();
    await dialog.getByRole("button", { name: "Deny", exact: true }).click();
    await dialog.waitFor({ state: "detached" });
    // The two older requests still wait, without another push-challenges event.
    await page.getByTestId("push-requests").filter({ hasText: "(1 waiting)" }).click();
    await dialog.getByText("second").waitFor();
    await dialog.getByText("2 requests").waitFor();
    const { activity } = await fakeState(page);
    assert.deepEqual(activity.map((a) => [a.decision, a.question]), [["deny", "third"]]);
  });
});
