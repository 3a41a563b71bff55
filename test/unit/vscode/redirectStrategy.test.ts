import assert from 'node:assert/strict';
import { REDIRECT_PREFERENCES, type RedirectStrategy } from '../../../src/core/vocabulary';
import {
  hostKindOf,
  planRedirectStrategies,
  REDIRECT_STRATEGY_TABLE,
  type HostKind,
  type RedirectStrategyInput,
} from '../../../src/vscode/redirectStrategy';

const DESKTOP: RedirectStrategyInput = { uiKind: 'desktop', remoteName: undefined, preference: 'auto', serverSupportsDeviceCode: false };
const REMOTE: RedirectStrategyInput = { ...DESKTOP, remoteName: 'ssh-remote' };
const WEB: RedirectStrategyInput = { ...DESKTOP, uiKind: 'web' };

/** The strategies a plan tries, in order. */
function chooseRedirectStrategies(input: RedirectStrategyInput): readonly RedirectStrategy[] {
  return planRedirectStrategies(input).strategies;
}

describe('the order of redirect strategies', () => {
  const cases: [string, RedirectStrategyInput, RedirectStrategy[]][] = [
    ['desktop: URI handler, then loopback, then paste', DESKTOP, ['uriHandler', 'loopback', 'pasteUrl']],
    ['desktop with device code: device code before paste', { ...DESKTOP, serverSupportsDeviceCode: true }, ['uriHandler', 'loopback', 'deviceCode', 'pasteUrl']],
    ['remote: URI handler, then loopback (no device code), then paste', REMOTE, ['uriHandler', 'loopback', 'pasteUrl']],
    ['remote with device code: device code before loopback', { ...REMOTE, serverSupportsDeviceCode: true }, ['uriHandler', 'deviceCode', 'loopback', 'pasteUrl']],
    ['web: URI handler, never loopback, then paste', WEB, ['uriHandler', 'pasteUrl']],
    ['web with device code', { ...WEB, serverSupportsDeviceCode: true }, ['uriHandler', 'deviceCode', 'pasteUrl']],
    ['web with a remote name (code-server): still web', { ...WEB, remoteName: 'code-server' }, ['uriHandler', 'pasteUrl']],
    ['desktop, preference loopback: loopback first', { ...DESKTOP, preference: 'loopback' }, ['loopback', 'uriHandler', 'pasteUrl']],
    ['desktop, preference paste: paste first', { ...DESKTOP, preference: 'pasteUrl' }, ['pasteUrl', 'uriHandler', 'loopback']],
    ['remote, preference loopback (a forwarded port): loopback first', { ...REMOTE, preference: 'loopback', serverSupportsDeviceCode: true }, ['loopback', 'uriHandler', 'deviceCode', 'pasteUrl']],
    ['remote, preference device code the server offers', { ...REMOTE, preference: 'deviceCode', serverSupportsDeviceCode: true }, ['deviceCode', 'uriHandler', 'loopback', 'pasteUrl']],
    ['web, preference loopback: impossible, ignored', { ...WEB, preference: 'loopback' }, ['uriHandler', 'pasteUrl']],
    ['desktop, preference device code the server lacks: ignored', { ...DESKTOP, preference: 'deviceCode' }, ['uriHandler', 'loopback', 'pasteUrl']],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(chooseRedirectStrategies(input), expected));
  }

  it('always ends with pasting the URL, whatever the input', () => {
    for (const uiKind of ['desktop', 'web'] as const) {
      for (const remoteName of [undefined, 'wsl']) {
        for (const preference of REDIRECT_PREFERENCES) {
          for (const serverSupportsDeviceCode of [false, true]) {
            const strategies = chooseRedirectStrategies({ uiKind, remoteName, preference, serverSupportsDeviceCode });
            assert.ok(strategies.includes('pasteUrl'));
            assert.equal(new Set(strategies).size, strategies.length, 'no strategy twice');
          }
        }
      }
    }
  });
});

describe('planRedirectStrategies', () => {
  it('explains an ignored preference with the row that rules it out', () => {
    const plan = planRedirectStrategies({ ...WEB, preference: 'loopback' });
    assert.equal(plan.ignoredPreference?.strategy, 'loopback');
    assert.equal(plan.ignoredPreference?.condition, 'never');
    assert.match(plan.ignoredPreference?.why ?? '', /127\.0\.0\.1/);
  });

  it('explains a preference the server cannot serve', () => {
    const plan = planRedirectStrategies({ ...DESKTOP, preference: 'deviceCode' });
    assert.equal(plan.ignoredPreference?.condition, 'serverSupportsDeviceCode');
  });

  it('has no ignored preference when it is honoured or absent', () => {
    assert.equal(planRedirectStrategies({ ...DESKTOP, preference: 'loopback' }).ignoredPreference, undefined);
    assert.equal(planRedirectStrategies(DESKTOP).ignoredPreference, undefined);
  });

  it('gives the row behind each strategy, in order', () => {
    const plan = planRedirectStrategies({ ...REMOTE, serverSupportsDeviceCode: true });
    assert.deepEqual(plan.rows.map((row) => row.strategy), plan.strategies);
    assert.ok(plan.rows.every((row) => row.host === 'remote'));
  });
});

describe('REDIRECT_STRATEGY_TABLE', () => {
  it('has one row per host and strategy, each saying why', () => {
    for (const host of ['desktop', 'remote', 'web'] as const) {
      const strategies = REDIRECT_STRATEGY_TABLE.filter((row) => row.host === host).map((row) => row.strategy).sort();
      assert.deepEqual(strategies, ['deviceCode', 'loopback', 'pasteUrl', 'uriHandler'], host);
    }
    for (const row of REDIRECT_STRATEGY_TABLE) assert.ok(row.why.length > 20, `${row.host}/${row.strategy} says why`);
  });

  /** An input for `host` under which `row`'s condition holds (or, with `holds` false, fails). */
  function inputFor(host: HostKind, condition: string, holds: boolean): RedirectStrategyInput {
    const base = host === 'desktop' ? DESKTOP : host === 'remote' ? REMOTE : WEB;
    return {
      ...base,
      serverSupportsDeviceCode: condition === 'serverSupportsDeviceCode' ? holds : true,
    };
  }

  for (const row of REDIRECT_STRATEGY_TABLE) {
    it(`${row.host} / ${row.strategy} is offered exactly when "${row.condition}" holds`, () => {
      const offered = (holds: boolean): boolean => chooseRedirectStrategies(inputFor(row.host, row.condition, holds)).includes(row.strategy);
      if (row.condition === 'never') return assert.equal(offered(true), false);
      assert.equal(offered(true), true);
      if (row.condition !== 'always') assert.equal(offered(false), false);
    });
  }
});

describe('hostKindOf', () => {
  const cases: [Pick<RedirectStrategyInput, 'uiKind' | 'remoteName'>, HostKind][] = [
    [{ uiKind: 'desktop', remoteName: undefined }, 'desktop'],
    [{ uiKind: 'desktop', remoteName: 'wsl' }, 'remote'],
    [{ uiKind: 'desktop', remoteName: 'dev-container' }, 'remote'],
    [{ uiKind: 'web', remoteName: undefined }, 'web'],
    [{ uiKind: 'web', remoteName: 'codespaces' }, 'web'],
  ];
  for (const [input, expected] of cases) {
    it(`treats ui ${input.uiKind} with remote ${input.remoteName ?? 'none'} as ${expected}`, () => assert.equal(hostKindOf(input), expected));
  }
});
