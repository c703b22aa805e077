import { serveWrites } from '../../sqlite/sqlite-writer-thread';
import { AppendOutcome, AppendRequest, SqliteEventWriter } from './sqlite-event-writer';

/** Entry of the events file's writer thread; workerData is the file's path. */
serveWrites<AppendRequest[], AppendOutcome[]>((path) => new SqliteEventWriter(path as string));
