// Hand-written in codegen's @playwright/test shape: the same forms as every_form_sync.py.
import { test, expect } from '@playwright/test';

test.use({
  viewport: { width: 1280, height: 720 }
});

test('every form', async ({ page }) => {
  page.once('dialog', dialog => {
    console.log(`Dialog message: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  await page.goto('https://app.example.com/dashboard');
  await page.getByRole('button', { name: 'New project', exact: true }).click();
  await page.getByRole('button', { name: 'Menu' }).click({
    button: 'right',
    modifiers: ['Shift', 'ControlOrMeta'],
    position: { x: 12, y: 8.5 }
  });
  await page.getByText('Spring launch').dblclick();
  await page.getByLabel('Project name').fill('Q3 roadmap');
  await page.getByPlaceholder('Search projects').pressSequentially('roadmap', { delay: 80 });
  await page.getByPlaceholder('Search projects').press('Control+A');
  await page.getByPlaceholder('Search projects').clear();
  await page.getByTestId('invite').check();
  await page.getByTestId('invite').uncheck();
  await page.getByLabel('Template').selectOption('launch');
  await page.getByLabel('Tags').selectOption(['design', 'web']);
  await page.getByLabel('Owner').selectOption({ label: 'Alex Morgan' });
  await page.getByAltText('Team avatar').hover();
  await page.getByTitle('Close').click();
  await page.locator('#upload').setInputFiles('files/brief.pdf');
  await page.locator('#upload').setInputFiles(['a.png', 'b.png']);
  await page.locator('li.task').first().click();
  await page.locator('li.task').last().click();
  await page.locator('li.task').nth(2).click();
  await page.locator('li.task').filter({ hasText: 'Draft' }).click();
  await page.locator('div').filter({ hasText: /^Pro plan$/ }).click();
  await page.getByRole('row', { name: 'Alice' }).getByRole('button', { name: 'Edit' }).click();
  await page.getByTestId('board').locator('.card').nth(1).getByText('Due').click();
  await page.frameLocator('#editor').getByRole('textbox').fill('Hello');
  await page.locator('iframe[name="preview"]').contentFrame().getByRole('link', { name: 'Open' }).click();
  await page.getByRole('link', { name: /^Docs$/ }).click();
  await page.keyboard.press('Escape');
  await page.waitForTimeout(500);
  await page.waitForURL('**/dashboard');
  await page.getByRole('heading', { name: 'Projects' }).scrollIntoViewIfNeeded();
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('Saved');
  await expect(page.locator('#toast')).toContainText('created');
  await expect(page.getByRole('dialog')).not.toBeVisible();
  await expect(page.getByTestId('invite')).toBeChecked();
  await expect(page).toHaveURL('https://app.example.com/dashboard');
  const downloadPromise = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const download = await downloadPromise;
  const page1Promise = page.waitForEvent('popup');
  await page.getByRole('link', { name: 'Help center' }).click();
  const page1 = await page1Promise;
  await page1.getByRole('searchbox').fill('billing');
  await page1.close();
});
