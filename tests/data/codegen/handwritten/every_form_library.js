// Hand-written in codegen's JavaScript library shape (assertions are commented out, as codegen does).
const { chromium } = require('playwright');

(async () => {
  const browser = await chromium.launch({
    headless: false
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('https://app.example.com/');
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await page.getByLabel('Email').fill('alex@example.com');
  await page.getByLabel('Password').fill('s3cret!pass');
  await page.getByRole('button', { name: 'Sign in' }).click();
  // await expect(page.getByRole('heading', { name: 'Welcome back' })).toBeVisible();
  const page1Promise = page.waitForEvent('popup');
  await page.getByRole('link', { name: 'Release notes' }).click();
  const page1 = await page1Promise;
  await page1.getByRole('link', { name: 'Version 2.0' }).click();
  await page1.close();

  // ---------------------
  await context.storageState({ path: 'auth.json' });
  await context.close();
  await browser.close();
})();
