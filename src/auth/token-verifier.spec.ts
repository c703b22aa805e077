import { AppConfig } from '../config/app-config';
import { Clock } from '../shared/clock';
import { issueToken } from './token-issuer';
import { InvalidTokenError, TokenVerifier } from './token-verifier';

class SettableClock extends Clock {
  constructor(public current: Date) {
    super();
  }
  now(): Date {
    return this.current;
  }
}

describe('TokenVerifier', () => {
  const secret = 's'.repeat(40);
  const config = AppConfig.fromEnvironment({ AUTH_JWT_SECRET: secret });
  const key = new TextEncoder().encode(secret);

  it('accepts a valid token, roles included, and keeps accepting it only until it expires', async () => {
    const clock = new SettableClock(new Date());
    const verifier = new TokenVerifier(config, clock);
    const token = await issueToken(config, key, {
      subject: 'sam',
      roles: ['support'],
      expiresIn: '10m',
    });

    expect(await verifier.verify(token)).toEqual({ subject: 'sam', roles: ['support'] });
    expect(await verifier.verify(token)).toEqual({ subject: 'sam', roles: ['support'] });

    clock.current = new Date(clock.current.getTime() + 11 * 60_000);
    await expect(verifier.verify(token)).rejects.toThrow(InvalidTokenError);
  });

  it('refuses a token signed with another key, and does not remember the refusal as valid', async () => {
    const verifier = new TokenVerifier(config, new SettableClock(new Date()));
    const forged = await issueToken(config, new TextEncoder().encode('x'.repeat(40)), {
      subject: 'mallory',
      roles: [],
      expiresIn: '10m',
    });
    await expect(verifier.verify(forged)).rejects.toThrow(InvalidTokenError);
    await expect(verifier.verify(forged)).rejects.toThrow(InvalidTokenError);
  });

  it('accepts a token signed with any listed secret, newest first, and refuses one signed with a retired secret', async () => {
    const [newest, older] = ['n'.repeat(40), 'o'.repeat(40)];
    const signedWithOlder = await issueToken(config, new TextEncoder().encode(older), {
      subject: 'sam',
      roles: [],
      expiresIn: '10m',
    });
    const rotating = AppConfig.fromEnvironment({ AUTH_JWT_SECRET: `${newest},${older}` });
    expect(rotating.auth.jwtSecret).toBe(newest);
    const clock = new SettableClock(new Date());
    expect(await new TokenVerifier(rotating, clock).verify(signedWithOlder)).toEqual({
      subject: 'sam',
      roles: [],
    });
    const retired = AppConfig.fromEnvironment({ AUTH_JWT_SECRET: newest });
    await expect(new TokenVerifier(retired, clock).verify(signedWithOlder)).rejects.toThrow(
      InvalidTokenError,
    );
  });

  it('refuses an expired token signed with an older secret as expired, not as badly signed', async () => {
    const [newest, older] = ['n'.repeat(40), 'o'.repeat(40)];
    const rotating = AppConfig.fromEnvironment({ AUTH_JWT_SECRET: `${newest},${older}` });
    const clock = new SettableClock(new Date());
    const token = await issueToken(rotating, new TextEncoder().encode(older), {
      subject: 'sam',
      roles: [],
      expiresIn: '1m',
    });
    clock.current = new Date(clock.current.getTime() + 2 * 60_000);
    await expect(new TokenVerifier(rotating, clock).verify(token)).rejects.toThrow(/"exp"/);
  });
});
