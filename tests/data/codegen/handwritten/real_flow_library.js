// Hand-written in codegen's JavaScript library shape, with the older Promise.all form for the popup
// and the download, and async dialog handlers: the real_flow_sync.py flow.
const { chromium } = require('playwright');

(async () => {
  const browser = await chromium.launch({
    headless: false
  });
  const context = await browser.newContext({
    storageState: 'auth.json'
  });
  const page = await context.newPage();
  await page.goto('http://localhost:8000/reports.html');
  const [page1] = await Promise.all([
    page.waitForEvent('popup'),
    page.getByRole('link', { name: 'Help' }).click()
  ]);
  // await expect(page1.getByRole('heading', { name: 'Help' })).toBeVisible();
  await page1.getByRole('heading', { name: 'Help' }).waitFor();
  await page1.getByRole('link', { name: 'Keyboard shortcuts' }).click();
  page.once('dialog', async dialog => {
    await dialog.dismiss();
  });
  await page.getByRole('button', { name: 'Delete report' }).click();
  await page1.bringToFront();
  await page1.close();
  page.once('dialog', async (dialog) => { await dialog.accept('Q3 numbers'); });
  await page.getByRole('button', { name: 'Rename' }).click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click()
  ]);
  await download.saveAs('report.csv');
  const page2 = await context.newPage();
  await page2.goto('http://localhost:8000/help.html');
  await page2.frameLocator('#outer').frameLocator('iframe[name="inner"]').getByRole('button', { name: 'Play' }).click();
  await page2.locator('#embed').contentFrame().getByText('Chart').click();
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page2.close();

  // ---------------------
  await context.close();
  await browser.close();
})();
