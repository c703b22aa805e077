/**
 * What the store contracts (`*.contract.ts`) share: a harness that opens an adapter's kind of
 * store, and the handles a test opens on it, closed after each test.
 */

/** One handle on a store: the port under test plus the adapter's own lifecycle. */
export interface StoreHandle {
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** One store opened by a harness. */
export interface OpenedStore<S extends StoreHandle> {
  store: S;
  /**
   * Opens another handle on the same underlying store: a second service instance while `store`
   * is open, or the same instance after a restart once the suite has closed `store`.
   */
  openAnotherHandle(): Promise<S>;
  /** Releases the underlying storage; called after the suite has closed every handle. */
  dispose(): Promise<void>;
}

export interface StoreHarness<S extends StoreHandle> {
  /** Opens a new, empty store. */
  openEmpty(): Promise<OpenedStore<S>>;
}

export interface StoreHandles<S extends StoreHandle> {
  /** The handle the test started with; `restart` replaces it. */
  readonly store: S;
  /** Another service instance on the same store (closed after the test). */
  openAnotherInstance(): Promise<S>;
  close(handle: S): Promise<void>;
  /** Closes `store` and opens it again, as a restart of the instance would; returns the new one. */
  restart(): Promise<S>;
}

/** Opens an empty store before each test of the enclosing describe and closes it after. */
export function storeHandles<S extends StoreHandle>(harness: StoreHarness<S>): StoreHandles<S> {
  let opened: OpenedStore<S>;
  let current: S;
  let openHandles: S[];

  beforeEach(async () => {
    opened = await harness.openEmpty();
    current = opened.store;
    openHandles = [current];
  });

  afterEach(async () => {
    await Promise.all(openHandles.map((handle) => handle.close()));
    await opened.dispose();
  });

  const handles: StoreHandles<S> = {
    get store() {
      return current;
    },
    async openAnotherInstance() {
      const handle = await opened.openAnotherHandle();
      openHandles.push(handle);
      return handle;
    },
    async close(handle) {
      openHandles = openHandles.filter((open) => open !== handle);
      await handle.close();
    },
    async restart() {
      await handles.close(current);
      current = await handles.openAnotherInstance();
      return current;
    },
  };
  return handles;
}
