import { serveWrites } from '../../sqlite/sqlite-writer-thread';
import { SqliteSummaryWriter, SummaryCommit, SummaryWriterData } from './sqlite-summary-writes';

/** Entry of the read-model file's writer thread. */
serveWrites<SummaryCommit, void>((data) => {
  const { path, table, checkpointTable } = data as SummaryWriterData;
  return new SqliteSummaryWriter(path, table, checkpointTable);
});
