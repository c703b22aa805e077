import { clientConnectionString } from './eventstoredb-client';

describe('clientConnectionString', () => {
  it('gives the client esdb:// for kurrentdb://, keeping everything after the scheme', () => {
    expect(clientConnectionString('kurrentdb://admin:changeit@db:2113?tls=false')).toBe(
      'esdb://admin:changeit@db:2113?tls=false',
    );
    expect(clientConnectionString('kurrentdb+discover://a:2113,b:2113')).toBe(
      'esdb+discover://a:2113,b:2113',
    );
  });

  it('leaves esdb:// connection strings as they are', () => {
    for (const connectionString of ['esdb://db:2113?tls=false', 'esdb+discover://db:2113']) {
      expect(clientConnectionString(connectionString)).toBe(connectionString);
    }
  });
});
