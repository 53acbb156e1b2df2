import { CrashWorld } from './crash-kit';
import { CRASH_PHASES, assertOver, runRound, scenarioName, setUpScenario, type Scenario } from './crash-phases';

/**
 * The crash matrix of issue 13: the real service SIGKILLed at every phase of each purchase flow
 * (e2e/crash-phases.ts), restarted on the same data, its devices reconnecting and resending what firmware
 * resends. Two rounds, three processes: round 1 is reached in a process without a recogniser and resumed by
 * the next, which then reaches round 2 and dies in turn. One emulator throughout, as WeChat outlives a restart.
 */
jest.setTimeout(300_000);

const world = new CrashWorld();
const scenarios = new Map<string, Scenario>();
const round = (r: 1 | 2) => CRASH_PHASES.filter((p) => p.round === r);

beforeAll(async () => {
  await world.open();
  await world.start({ RECOGNITION_WORKERS: '0' });
  let n = 0;
  for (const p of CRASH_PHASES) scenarios.set(scenarioName(p), await setUpScenario(world, p, ++n));
});
afterAll(() => world.close());

const of = (r: 1 | 2) => round(r).map((p) => scenarios.get(scenarioName(p))!);

describe.each([1, 2] as const)('round %i', (r) => {
  it('reaches every phase, is killed, restarts and resumes', async () => {
    // WeChat delivers its notifications again once the service is back (round 2 withheld them).
    await runRound(world, of(r), { recover: async () => (await world.control('faults', { notificationsEnabled: true }), world.start()) });
  });
  const known = (p: (typeof CRASH_PHASES)[number]) => (p.known ? ` (known defect: ${p.known})` : '');
  for (const p of round(r)) {
    (p.known ? it.skip : it)(`${scenarioName(p)}: over, billed once, stock moved once, cabinet free${known(p)}`, async () => {
      await assertOver(scenarios.get(scenarioName(p))!);
    });
  }
});
