import { describeInBrowser } from './support/browser';
import { expectAccessible, PHONE, useDashboards } from './support/dashboard';
import { useWorld } from './support/world';

describeInBrowser('the dashboard shell', () => {
  const env = useWorld();
  const { dashboardOf } = useDashboards(env);

  test('signs in and shows the live status', async () => {
    const someone = await env.world.professional('Shell Pro');
    const tab = await dashboardOf(someone, PHONE);
    await expectAccessible(tab.page, 'shell');
    expect(tab.errors).toEqual([]);
  });
});
