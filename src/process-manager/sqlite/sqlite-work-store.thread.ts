import { serveMethods } from '../../sqlite/sqlite-writer-thread';
import { SqliteWorkFile } from './sqlite-work-store';

/** Entry of the work file's thread; workerData is the store's options ({ path }). */
serveMethods((options) => new SqliteWorkFile(options as { path: string }));
