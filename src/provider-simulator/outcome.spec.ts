import { drawOutcome, Outcome, OutcomeOptions, scriptedOutcome } from './outcome';
import { defaultSimulatorOptions } from './provider-simulator.options';
import { submissionRandom } from './seeded-random';

const reference: OutcomeOptions = defaultSimulatorOptions;

function draw(
  index: number,
  options: OutcomeOptions = reference,
  script: Parameters<typeof drawOutcome>[2] = {},
  seed = 20240611,
): Outcome {
  return drawOutcome(submissionRandom(seed, `tx-${index}`, 1), options, script);
}

const share = (part: number, whole: number) => part / whole;

describe('drawOutcome', () => {
  it('matches the reference mix over 3,000 POSTs with a fixed seed', () => {
    const outcomes = Array.from({ length: 3000 }, (_, index) => draw(index));
    const ok = outcomes.filter((o) => o.kind === 'ok');
    const late = outcomes.filter((o) => o.kind === 'late');
    const lost = outcomes.filter((o) => o.kind === 'lost');
    const final = [...ok, ...late];

    expect(Math.abs(share(late.length + lost.length, 3000) - 0.1)).toBeLessThan(0.02);
    expect(Math.abs(share(late.length, late.length + lost.length) - 0.5)).toBeLessThan(0.1);
    expect(
      Math.abs(share(final.filter((o) => o.status === 'completed').length, final.length) - 2 / 3),
    ).toBeLessThan(0.03);
    expect(Math.abs(share(ok.filter((o) => o.webhook).length, ok.length) - 0.8)).toBeLessThan(0.03);
  });

  it('draws every delay within its range, and answers every 504 after the timeout delay', () => {
    for (let index = 0; index < 1000; index += 1) {
      const outcome = draw(index);
      if (outcome.kind === 'ok') {
        expect(outcome.responseDelaySeconds).toBeGreaterThanOrEqual(0.2);
        expect(outcome.responseDelaySeconds).toBeLessThanOrEqual(10);
        if (outcome.webhook) {
          expect(outcome.webhook).toMatchObject({ status: outcome.status, copies: 1 });
          expect(outcome.webhook.delaySeconds).toBeGreaterThanOrEqual(10);
          expect(outcome.webhook.delaySeconds).toBeLessThanOrEqual(30);
        }
      } else {
        expect(outcome.responseDelaySeconds).toBe(30);
      }
      if (outcome.kind === 'late') {
        expect(outcome.appearsAfterSeconds).toBeGreaterThanOrEqual(30);
        expect(outcome.appearsAfterSeconds).toBeLessThanOrEqual(120);
      }
    }
  });

  it('follows the configured rates, not the reference ones', () => {
    const allLost = { ...reference, p504: 1, lateAppearanceShare: 0 };
    const allDeclinedSilently = { ...reference, p504: 0, completedShare: 0, webhookShare: 0 };
    for (let index = 0; index < 100; index += 1) {
      expect(draw(index, allLost).kind).toBe('lost');
      expect(draw(index, allDeclinedSilently)).toMatchObject({
        kind: 'ok',
        status: 'declined',
        webhook: null,
      });
    }
  });

  it('gives the same outcome for the same seed, id and attempt, and new ones otherwise', () => {
    const ids = Array.from({ length: 50 }, (_, index) => index);
    expect(ids.map((index) => draw(index))).toEqual(ids.map((index) => draw(index)));
    expect(ids.map((index) => draw(index, reference, {}, 1))).not.toEqual(
      ids.map((index) => draw(index, reference, {}, 2)),
    );
    const secondAttempts = ids.map((index) =>
      drawOutcome(submissionRandom(20240611, `tx-${index}`, 2), reference),
    );
    expect(secondAttempts).not.toEqual(ids.map((index) => draw(index)));
  });

  it('forces only what is scripted: the drawn delays stay as they were', () => {
    for (let index = 0; index < 100; index += 1) {
      const drawn = draw(index, { ...reference, p504: 0 });
      const forcedLate = draw(index, reference, { outcome: 'late-completed' });
      const forcedOk = draw(index, reference, { outcome: 'ok-declined' });
      if (drawn.kind !== 'ok' || forcedLate.kind !== 'late' || forcedOk.kind !== 'ok') {
        throw new Error('scripted kinds were not applied');
      }
      expect(forcedLate.status).toBe('completed');
      expect(forcedOk.status).toBe('declined');
      expect(forcedOk.responseDelaySeconds).toBe(drawn.responseDelaySeconds);
      expect(forcedOk.webhook?.delaySeconds).toBe(drawn.webhook?.delaySeconds);
      expect(draw(index, reference, { outcome: 'lost' })).toEqual({
        kind: 'lost',
        responseDelaySeconds: 30,
      });
    }
  });

  it('plans scripted webhook faults for 200 answers and never a webhook after a 504', () => {
    const ok = { outcome: 'ok-completed' } as const;
    expect(draw(1, reference, { ...ok, webhook: 'none' })).toMatchObject({ webhook: null });
    expect(draw(1, reference, { ...ok, webhook: 'once' })).toMatchObject({
      webhook: { status: 'completed', copies: 1 },
    });
    expect(draw(1, reference, { ...ok, webhook: 'duplicate' })).toMatchObject({
      webhook: { status: 'completed', copies: 2 },
    });
    expect(draw(1, reference, { ...ok, webhook: 'contradicting' })).toMatchObject({
      webhook: { status: 'declined', copies: 1 },
    });
    expect(draw(1, reference, { outcome: 'late-declined', webhook: 'once' })).not.toHaveProperty(
      'webhook',
    );
  });
});

describe('scriptedOutcome', () => {
  it('applies a single script to every POST and a list to successive POSTs, then draws', () => {
    expect([1, 2, 3].map((attempt) => scriptedOutcome('lost', attempt))).toEqual([
      'lost',
      'lost',
      'lost',
    ]);
    expect([1, 2, 3].map((attempt) => scriptedOutcome(['lost', 'ok-completed'], attempt))).toEqual([
      'lost',
      'ok-completed',
      undefined,
    ]);
    expect(scriptedOutcome(undefined, 1)).toBeUndefined();
  });
});
