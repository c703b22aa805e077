import { Injectable } from '@nestjs/common';
import type { WorkKind } from '../work-queue.port';
import { CheckHandler } from './check.handler';
import { DeadlineHandler } from './deadline.handler';
import { NotifyHandler } from './notify.handler';
import { SettleHandler } from './settle.handler';
import { SubmitHandler } from './submit.handler';
import type { WorkHandler } from './work-handler';

/** The handler of each kind of work; a new kind does not compile until it has one here. */
@Injectable()
export class WorkHandlers {
  private readonly byKind: Record<WorkKind, WorkHandler>;

  constructor(
    submit: SubmitHandler,
    check: CheckHandler,
    deadline: DeadlineHandler,
    notify: NotifyHandler,
    settle: SettleHandler,
  ) {
    this.byKind = { submit, check, deadline, notify, settle };
  }

  for(kind: WorkKind): WorkHandler {
    return this.byKind[kind];
  }
}
