// The same tour as site_tour_pytest.py, in codegen's @playwright/test shape.
import { test, expect } from '@playwright/test';

test('site tour', async ({ page }) => {
  await page.goto('http://localhost:8000/index.html');
  await expect(page.getByRole('heading', { name: 'The calm task tracker' })).toBeVisible();
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await page.getByPlaceholder('you@company.com').fill('alex@northwind.test');
  await page.getByLabel('Password').fill('correct-horse');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL('**/dashboard.html');
  await page.getByTestId('search').fill('launch');
  await expect(page.getByTestId('project-card').filter({ hasText: 'Q3 product launch' })).toBeVisible();
  await page.getByTestId('search').clear();
  await page.getByTestId('project-card').nth(1).hover();
  await page.getByTestId('project-grid').getByRole('link', { name: /^Billing migration$/ }).click();
  await expect(page.locator('#project-title')).toHaveText('Billing migration');
  await page.getByText('Settings').first().click();
  await page.getByRole('switch', { name: 'Weekly summary' }).check();
  await page.getByLabel('Density').selectOption({ label: 'Compact' });
  await page.getByRole('button', { name: 'Save changes' }).click();
});
