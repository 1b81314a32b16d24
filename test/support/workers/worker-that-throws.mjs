// A crop worker module that cannot load: test/server/workers/crop-workers.test.ts starts a pool with it.
throw new Error('this worker module fails as it loads');
